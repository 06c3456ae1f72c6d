import type {
  SipDialog,
  SipResponse,
  OutgoingInvite,
  InviteOptions,
  SipClock,
  TimerHandle,
} from '#sip'
import type { AudioCodecName, MediaLeg } from '#media'
import type { AttemptOutcome } from '#calls/routing/failover_policy'
import type { DisconnectCause } from '#calls/models/call_record'
import type { LegEncryption } from '#calls/b2bua/media_security'

/** One place a call can go: a carrier (outbound) or a registered browser or phone (inbound). */
export interface CallTarget {
  label: string
  carrierName?: string
  /** The leg is the carrier (its dialog is persisted for crash recovery). */
  carrier: boolean
  /** The audio codecs the target supports (a carrier's profile); all when absent. */
  codecs?: AudioCodecName[]
  /** The client connection (a web phone's SIP WebSocket) the target is reached over. */
  connectionId?: string
  /** The client's flow at a trusted front (Binding.flow): the front says when it closes. */
  frontFlow?: string
  /** The user whose device this is (inbound and internal calls). */
  userId?: number
  /** Whether this target's signalling and media are encrypted, for the CDR once it answers. */
  encryption?: LegEncryption
  /** Rung instead when this target refuses our offer with 488 (plain RTP for a TLS phone). */
  plainFallback?: CallTarget
  /** Told when this target answered the call (a desk phone's devices page notes it). */
  onAnswered?: () => void
  /** `near`: the call's other leg (an engine with worker processes keeps both in one). */
  createLeg(near?: MediaLeg): Promise<MediaLeg>
  inviteOptions(offer: string): InviteOptions
}

export type AttemptResult =
  | { kind: 'accepted'; dialog: SipDialog; response: SipResponse }
  | { kind: 'failed'; outcome: AttemptOutcome; ringing: boolean }
  | { kind: 'canceled' }

/** One INVITE towards one target, with its own media leg and the timer that gives up on its silence. */
export default class CallAttempt {
  leg!: MediaLeg
  outgoing!: OutgoingInvite
  provisional = false
  ringing = false
  earlyDialog: SipDialog | undefined
  /** The last answer (183 or 200) applied to the leg, and the codecs our offer listed. */
  earlySdp: string | undefined
  offeredCodecs: AudioCodecName[] = []
  /** The methods the answering peer allows (its 200's Allow): whether it takes UPDATE. */
  peerAllows: string | null = null
  done = false
  result!: Promise<AttemptResult>
  #settle!: (result: AttemptResult) => void
  #tryingTimer: TimerHandle | undefined

  constructor(
    readonly target: CallTarget,
    private readonly clock: SipClock
  ) {
    this.result = new Promise((resolve) => (this.#settle = resolve))
  }

  settle(result: AttemptResult) {
    if (this.done) return
    this.done = true
    if (this.#tryingTimer) this.clock.clearTimeout(this.#tryingTimer)
    this.#settle(result)
  }

  armTryingTimer(ms: number) {
    this.#tryingTimer = this.clock.setTimeout(() => {
      if (this.provisional || this.done) return
      // Silence: give up on this target; a late answer is ACKed and ended with BYE by cancel().
      this.outgoing.cancel()
      this.settle({ kind: 'failed', outcome: { kind: 'no_trying' }, ringing: false })
    }, ms)
  }

  cancel() {
    if (this.#tryingTimer) this.clock.clearTimeout(this.#tryingTimer)
    if (!this.done) this.outgoing.cancel()
  }
}

/** How a failed final status reads in the CDR. */
export function causeOfStatus(status: number): DisconnectCause {
  if (status === 486 || status === 600) return 'busy'
  if (status === 480 || status === 408) return 'no_answer'
  if (status === 487) return 'cancelled'
  if (status === 403 || status === 603) return 'rejected'
  if (status === 404 || status === 484 || status === 604 || status === 410) return 'unreachable'
  return 'failed'
}
