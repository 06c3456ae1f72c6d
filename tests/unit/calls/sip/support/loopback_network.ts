import SipMessageParser from '#sip/message/sip_message_parser'
import SipRequest from '#sip/message/sip_request'
import SipResponse from '#sip/message/sip_response'
import type SipMessage from '#sip/message/sip_message'
import type FakeClock from '#sip/clock/fake_clock'
import type { RequestSource } from '#sip/transaction/transaction_manager'
import type {
  SipDestination,
  SipTransportProtocol,
  TransactionTransport,
} from '#sip/transaction/transaction_transport'
import type { UserAgentTransport } from '#sip/ua/user_agent_transport'

/** What sits on an endpoint: a user agent core, or a scripted peer. */
export interface LoopbackReceiver {
  receiveRequest(request: SipRequest, source: RequestSource): void
  receiveResponse(response: SipResponse): void
}

/** One message put on the wire; `dropped` ones never arrived. */
export interface WireEvent {
  at: number
  from: string
  to: string
  message: SipMessage
  dropped: boolean
}

type DropRule = { matches: (message: SipMessage, from: string) => boolean; remaining: number }

/**
 * An in-memory UDP-like network on the fake clock. Every message is serialized and parsed again
 * on delivery (so what crosses is what a socket would carry), arrives `latencyMs` later on the
 * clock (never inside the sender's call), and can be dropped by rules set per test.
 */
export default class LoopbackNetwork {
  readonly events: WireEvent[] = []
  readonly clock: FakeClock
  readonly latencyMs: number
  readonly #endpoints = new Map<string, LoopbackEndpoint>()
  readonly #drops: DropRule[] = []
  readonly #parser = new SipMessageParser()

  constructor(clock: FakeClock, latencyMs = 10) {
    this.clock = clock
    this.latencyMs = latencyMs
  }

  endpoint(host: string, port = 5060, reliable = false): LoopbackEndpoint {
    const endpoint = new LoopbackEndpoint(this, host, port, reliable)
    this.#endpoints.set(endpoint.address, endpoint)
    return endpoint
  }

  /** Drops the next `times` messages that match (Infinity: all of them). */
  drop(matches: (message: SipMessage, from: string) => boolean, times = 1): void {
    this.#drops.push({ matches, remaining: times })
  }

  transmit(from: LoopbackEndpoint, message: SipMessage, destination: SipDestination): void {
    const bytes = message.toBuffer()
    const to = `${destination.host}:${destination.port}`
    const rule = this.#drops.find(
      (candidate) => candidate.remaining > 0 && candidate.matches(message, from.address)
    )
    if (rule) {
      rule.remaining -= 1
    }
    this.events.push({ at: this.clock.now(), from: from.address, to, message, dropped: !!rule })
    const target = this.#endpoints.get(to)
    if (rule || !target) {
      return
    }
    this.clock.setTimeout(() => {
      const parsed = this.#parser.parse(bytes)
      if (parsed instanceof SipRequest) {
        target.receiver?.receiveRequest(parsed, {
          transport: target,
          responseDestination: { protocol: 'udp', host: from.host, port: from.port },
        })
      } else {
        target.receiver?.receiveResponse(parsed)
      }
    }, this.latencyMs)
  }

  /** Requests put on the wire (dropped ones too), optionally only those of one sender. */
  requests(method: string, from?: string): SipRequest[] {
    return this.events
      .filter((event) => from === undefined || event.from === from)
      .map((event) => event.message)
      .filter(
        (message): message is SipRequest =>
          message instanceof SipRequest && message.method === method
      )
  }

  responses(status: number, method?: string, from?: string): SipResponse[] {
    return this.events
      .filter((event) => from === undefined || event.from === from)
      .map((event) => event.message)
      .filter(
        (message): message is SipResponse =>
          message instanceof SipResponse &&
          message.status === status &&
          (method === undefined || message.cseq.method === method)
      )
  }

  /** The times at which matching messages were put on the wire. */
  times(matches: (message: SipMessage) => boolean): number[] {
    return this.events.filter((event) => matches(event.message)).map((event) => event.at)
  }

  /** One line per wire event, for failure messages: "12 a->b INVITE". */
  trace(): string {
    return this.events
      .map((event) => {
        const message = event.message
        const what =
          message instanceof SipRequest
            ? message.method
            : `${(message as SipResponse).status} ${message.cseq.method}`
        return `${event.at} ${event.from}->${event.to} ${what}${event.dropped ? ' (dropped)' : ''}`
      })
      .join('\n')
  }
}

/** One address on the loopback network: a transport as the transaction layer and the core see it. */
export class LoopbackEndpoint implements UserAgentTransport, TransactionTransport {
  receiver: LoopbackReceiver | undefined
  readonly #network: LoopbackNetwork

  constructor(
    network: LoopbackNetwork,
    readonly host: string,
    readonly port: number,
    readonly reliable: boolean
  ) {
    this.#network = network
  }

  get address(): string {
    return `${this.host}:${this.port}`
  }

  attach(receiver: LoopbackReceiver): void {
    this.receiver = receiver
  }

  transportFor(_protocol: SipTransportProtocol): TransactionTransport {
    return this
  }

  localAddress(_protocol: SipTransportProtocol): { host: string; port: number } {
    return { host: this.host, port: this.port }
  }

  send(message: SipMessage, destination: SipDestination): void {
    this.#network.transmit(this, message, destination)
  }
}
