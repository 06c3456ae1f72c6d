import type SipMessage from '#sip/message/sip_message'
import type SipRequest from '#sip/message/sip_request'
import type NameAddress from '#sip/message/name_address'
import type SipUri from '#sip/message/sip_uri'
import type { SipClock } from '#sip/clock/sip_clock'
import type { TimerConfig } from '#sip/transaction/timer_config'
import type InviteServerTransaction from '#sip/transaction/invite_server_transaction'
import type {
  SipDestination,
  SipTransportProtocol,
  TransactionTransport,
} from '#sip/transaction/transaction_transport'
import type OutgoingRequest from '#sip/ua/outgoing_request'
import type { OutgoingRequestOptions } from '#sip/ua/outgoing_request'
import type { ResponseDecorator } from '#sip/ua/incoming_request'
import type { SessionTimerConfig } from '#sip/dialog/session_timer_config'
import type SipDialog from '#sip/dialog/sip_dialog'

/**
 * What a dialog needs from the user agent core that owns it. The core implements it; a dialog
 * never reaches into the core otherwise, so the two can be tested and reasoned about apart.
 */
export interface DialogServices {
  readonly clock: SipClock
  readonly timers: Readonly<TimerConfig>
  readonly sessionTimer: Readonly<SessionTimerConfig>
  random(): number
  newBranch(): string
  /** Our Via for a request to this destination. */
  via(destination: SipDestination, branch: string): string
  /** Our Contact for dialogs over this protocol. */
  contact(protocol: SipTransportProtocol): NameAddress
  /** Where a request for this URI goes when the dialog has no better knowledge. */
  resolve(uri: SipUri): SipDestination
  transportFor(protocol: SipTransportProtocol): TransactionTransport
  /** Allow and Supported for requests that need them (INVITE, UPDATE). */
  capabilityHeaders(): Array<[string, string]>
  decorateResponse: ResponseDecorator
  sendRequest(
    request: SipRequest,
    destination: SipDestination,
    options: OutgoingRequestOptions
  ): OutgoingRequest
  /** A message outside any transaction: the ACK for a 2xx, 2xx retransmissions. */
  sendDirect(
    message: SipMessage,
    transport: TransactionTransport,
    destination: SipDestination
  ): void
  /** Lets a CANCEL find the handler of the INVITE it cancels. */
  registerCancelTarget(transaction: InviteServerTransaction, cancel: () => void): void
  dialogTerminated(dialog: SipDialog): void
}
