import {
  type SipResponse,
  type SipDialog,
  DialogEndReason,
  type IncomingInvite,
  type IncomingRequest,
  type SipUserAgentCore,
  type SipClock,
  type TimerHandle,
  notifyReferProgress,
  parseRefer,
  type Replaces,
  clientOf,
} from '#sip'
import {
  MediaCapacityError,
  MediaNegotiationError,
  type AudioCodecName,
  type MediaBridge,
  type MediaDirection,
  type MediaEngine,
  type MediaLeg,
  isHold,
  sdpFacts,
} from '#media'
import { decideFailover, type AttemptOutcome } from '#calls/routing/failover_policy'
import type { DurationCause } from '#calls/gates/call_gate'
import { sideQuality } from '#calls/b2bua/call_quality'
import type CallRecord from '#calls/models/call_record'
import type { DisconnectCause, HungUpBy } from '#calls/models/call_record'
import type CdrService from '#calls/b2bua/cdr_service'
import type { CdrEnd } from '#calls/b2bua/cdr_service'
import { sdp, sdpOf } from '#calls/b2bua/carrier_request'
import { bothEncrypted } from '#calls/b2bua/media_security'
import {
  E2EE_CONTENT_TYPE,
  E2EE_HEADER,
  keyExchangeTamper,
  parseKeyMessage,
  roleHeader,
} from '#calls/b2bua/end_to_end_encryption'
import CallAttempt, {
  causeOfStatus,
  type AttemptResult,
  type CallTarget,
} from '#calls/b2bua/call_attempt'
import { systemEndReason } from '#calls/b2bua/end_reason'
import { resourceOf } from '#calls/b2bua/capacity_resources'

/** Where a call can go; the B2BUA builds them (CallTargets), the session tries them. */
export type { CallTarget }

/** How ringing a set of targets ended (CallSession.ring). */
export type RingOutcome =
  | { kind: 'answered' }
  | { kind: 'ended' }
  | { kind: 'unanswered'; status: number; cause?: DisconnectCause }

/** Where a session writes its CDR: the answer and the end (CdrService; a list in unit tests). */
export type CdrWriter = Pick<
  CdrService,
  'answered' | 'end' | 'forwarded' | 'encryption' | 'quality' | 'endToEndEncrypted'
>

/**
 * The phases of a call, in order; a call only ever moves forward. `ringing` once a target rings
 * (180/183), `answered` once A got its 200, `ended` from the first step of ending on.
 */
export enum CallPhase {
  Setup = 'setup',
  Ringing = 'ringing',
  Answered = 'answered',
  Ended = 'ended',
}

export interface CallSessionServices {
  core: SipUserAgentCore
  media: MediaEngine
  /** The session's timers (trying, ring limits, maximum duration) run on it; FakeClock in tests. */
  clock: SipClock
  cdr: CdrWriter
  log: (
    level: 'info' | 'warn' | 'error',
    message: string,
    details?: Record<string, unknown>
  ) => void
  tryingTimeoutMs: number
  mediaTimeoutSeconds: number
  /**
   * The call is answered: the CDR's answer (`cdr.answered`) and its dialogs kept for crash
   * recovery (as `persist`), written together before the caller's 200 (issue 17).
   */
  answer(record: CallRecord, legs: PersistedLeg[]): Promise<void>
  /** A CDR of the call is closed (`cdr.end`) and its kept dialogs go (`forget`), together. */
  close(record: CallRecord, end: CdrEnd): Promise<void>
  /**
   * A transfer changed the call's parties: their dialogs are kept (active call legs, one
   * statement) so crash recovery can end them, the carrier's and the users' alike.
   */
  persist(record: CallRecord, legs: PersistedLeg[]): Promise<void>
  /** The transferred call's kept dialogs go. */
  forget(record: CallRecord): Promise<void>
  /** The session ended: drop it from the live calls. */
  ended(session: CallSession): void
  /** Who rings or talks may have changed (busy-lamp subscriptions follow it). */
  changed?(session: CallSession): void
  /**
   * A leg could not be had, or the database or Redis was out of reach before the answer: the
   * call is refused with 503 and counted.
   */
  outOfCapacity(
    resource: 'rtp_ports' | 'webrtc_ports' | 'media_engine' | 'database' | 'redis'
  ): void
  retryAfterSeconds: number
  /** Outbound: the carrier may ring this long; then CANCEL, 480 to the caller, CDR no_answer. */
  outboundRingLimitMs: number
  /** A call with a maximum duration: the caller hears the warning tone this long before the end. */
  durationWarningMs: number
  /** The host of the identities our own phones are told after a transfer (our SIP realm). */
  identityDomain?: string
  /**
   * A user's phone asked to transfer its party (REFER) to `dialled`: where the call may go, or
   * why not. Without it, REFER is declined.
   */
  transfer?(request: TransferRequest): Promise<TransferPlan>
  /**
   * Attended transfer: the transferor's other call that a Replaces header names (the transferor
   * called out in it), if it runs on this node. Without it, attended transfer is declined.
   */
  consulted?(request: ConsultedRequest): CallSession | undefined
}

/** A dialog of the call to keep for crash recovery, and who it leads to. */
export interface PersistedLeg {
  dialog: SipDialog
  party: 'carrier' | 'user'
}

/** A REFER with Replaces: which call of the transferor's its far side should join. */
export interface ConsultedRequest {
  session: CallSession
  replaces: Replaces
  transferorUserId: number | null
}

/** What a consulted call hands over to the call it joins (attended transfer). */
export interface HandedOver {
  attempt: CallAttempt
  dialog: SipDialog
  /** The transferor had put the new party on hold: it is offered sendrecv again. */
  held: boolean
  /** The CDRs that go on with the new party (an outbound call through a carrier: billed on). */
  records: CallRecord[]
  /** The consulted call's own maximum duration or spend cap, counted on from now. */
  limit?: { ms: number; cause: DurationCause }
  /** What the CDR of the joined call names as its new party. */
  shownAs: string
}

/** A REFER from the user's side of a call, as the B2BUA decides on it. */
export interface TransferRequest {
  session: CallSession
  /** The transferor's side: its party (the other side) is who the new target talks to. */
  side: 'a' | 'b'
  /** Refer-To's user part: an extension, a company number or a number outside. */
  dialled: string
  /** The user whose phone sent the REFER. */
  transferorUserId: number | null
  /** Where the REFER came from (the call gates see it). */
  sourceAddress: string
}

/** Where a transferred call goes, or why it may not (the REFER is answered with the status). */
export type TransferPlan =
  | { kind: 'refused'; status: number; reason: string }
  | {
      kind: 'targets'
      targets: CallTarget[]
      /** Colleagues' devices ring at once; carriers one after another with failover. */
      parallel: boolean
      ringMs: number
      /** What the CDR names as the new party (extension or number). */
      shownAs: string
      /** The outbound call a transfer outside places (billed to the company), answered with it. */
      follower?: CallRecord
      /** A gate limits the transferred call: it ends this long after the transfer, with this cause. */
      maxDurationSeconds?: number
      durationCause?: DurationCause
    }

/** An INFO of the browsers' key exchange (parameters after the media type are ignored). */
function isKeyExchange(contentType: string | undefined) {
  return contentType?.split(';')[0].trim().toLowerCase() === E2EE_CONTENT_TYPE
}

function mirror(direction: MediaDirection): MediaDirection {
  if (direction === 'sendonly') return 'recvonly'
  if (direction === 'recvonly') return 'sendonly'
  return direction
}

/**
 * One call through the B2BUA: side A is the INVITE we received (browser, phone or carrier),
 * side B the INVITE(s) we send (carriers one after another with failover, or every registered
 * device of the callee at once). Each side has its own media leg; the bridge relays between
 * them. Codecs: A's offer lists what may be used, B's answer decides, and A is answered (or, if
 * it was answered already with early media, re-offered) with exactly that codec, so nothing
 * ever needs a transcoder. After the answer each side's re-INVITE is answered locally and only
 * a change of direction (hold) is passed on.
 */
export default class CallSession {
  readonly startedAt = new Date()
  answeredAt: Date | null = null
  readonly #services: CallSessionServices
  readonly #invite: IncomingInvite
  #aLeg: MediaLeg
  readonly #aOffer: string
  /** A's codecs (G.711, Opus from a browser), in its order: what B legs may offer and A's answer use. */
  #aCodecs: AudioCodecName[]
  readonly #callerSide: 'a' | 'b'
  #aIsCarrier: boolean
  /** The user on side A: the caller of an internal or outbound call; after a transfer there, the new party. */
  #aUserId: number | null
  /** Side A's client connection (web phone socket); after a transfer there, the new party's. */
  #aConnectionId: string | undefined
  /** The caller's flow at a trusted front (its WebSocket there), when it called through one. */
  #aFrontFlow: string | undefined
  /** The methods side A's peer allows (Allow of its INVITE, or of the 200 after a transfer). */
  #aAllows: string | null
  /** Who each side talks to, as number or extension (the other side's identity); null: withheld. */
  readonly #identity: { a: string | null; b: string | null }
  #attempts = new Set<CallAttempt>()
  #mediaAttempt: CallAttempt | undefined
  #winner: CallAttempt | undefined
  #aAnswerSdp: string | undefined
  #aCodec: AudioCodecName | undefined
  #aDialog: SipDialog | undefined
  #bDialog: SipDialog | undefined
  #bridge: MediaBridge | undefined
  #heldByA = false
  #heldByB = false
  /** B's codec differs from what A was answered with until A accepts our re-offer: relay nothing. */
  #codecPending = false
  #phase = CallPhase.Setup
  #queue: Promise<unknown> = Promise.resolve()
  #ringTimer: TimerHandle | undefined
  /** A gate's maximum duration (fraud): counted from the answer, then the call is ended. */
  #maxDurationMs: number | undefined
  #durationCause: DurationCause = 'max_duration'
  #durationTimer: TimerHandle | undefined
  #warningTimer: TimerHandle | undefined
  /** A spend cap's end (clock time), set while the call runs; the earlier of it and the maximum wins. */
  #capDeadline: { at: number; cause: DurationCause } | undefined
  /** The clock's time of the answer (the maximum duration counts from it). */
  #answeredOnClock = 0
  /** The warning tone, once it started: resolves with the frames sent (tests wait for it). */
  warningTone: Promise<number> | undefined
  /** A B leg could not get media ports: no other target will fare better. */
  #outOfCapacity = false
  #echo: { close(): void } | undefined
  /** A transfer (REFER) is under way; the transferor may hang up meanwhile. */
  #transfer: { side: 'a' | 'b'; transferorGone: boolean } | undefined
  /** CDRs answered and closed with this call's own (follow()). */
  readonly #followers: CallRecord[] = []
  /** Attended transfer: this call's CDR went on with the call its far side joined (handOver). */
  #recordHandedOver = false
  /**
   * The pairing of the two current parties (issue 22): a transfer starts the next epoch. When both
   * are browsers they exchange keys in it; `confirmed` are the sides whose keys are installed.
   */
  #epoch = 1
  #confirmed = new Set<'a' | 'b'>()
  /** The side that starts the key exchange: the caller's; after a transfer, the side that stayed. */
  #initiatorSide: 'a' | 'b' = 'a'

  constructor(
    services: CallSessionServices,
    invite: IncomingInvite,
    aLeg: MediaLeg,
    readonly record: CallRecord,
    /** A is the caller in both directions today; `aIsCarrier` for inbound calls (crash recovery). */
    options: { callerSide?: 'a' | 'b'; aIsCarrier?: boolean } = {}
  ) {
    this.#aIsCarrier = options.aIsCarrier ?? false
    this.#services = services
    this.#invite = invite
    this.#aLeg = aLeg
    this.#aOffer = sdpOf(invite.offer) ?? ''
    this.#aCodecs = sdpFacts(this.#aOffer).codecs
    this.#callerSide = options.callerSide ?? 'a'
    this.#aUserId = record.direction !== 'inbound' ? record.userId : null
    this.#aConnectionId = invite.incoming.transaction.destination.connectionId
    this.#aFrontFlow = invite.request.client?.flow
    this.#aAllows = invite.request.headers.getAll('allow').join(', ') || null
    this.#identity = {
      a: record.callerWithheld ? null : record.callerNumber,
      b: record.calleeNumber,
    }
    invite.delegate = { onCanceled: () => this.#canceledByA() }
  }

  get answered() {
    return this.answeredAt !== null
  }

  /** Users whose devices ring for this call right now (before the answer). */
  get ringingUserIds(): number[] {
    if (this.answered || this.ended) return []
    return [...this.#attempts]
      .filter((attempt) => !attempt.done && attempt.target.userId !== undefined)
      .map((attempt) => attempt.target.userId!)
  }

  /** The user who placed the call (internal, outbound) while on it; null for carriers' calls. */
  get callingUserId(): number | null {
    return this.#aUserId
  }

  /** A transfer is under way: its new party's phone rings (or not yet); null without a transfer. */
  get transferState(): 'calling' | 'ringing' | null {
    if (!this.#transfer) return null
    const ringing = [...this.#attempts].some(
      (attempt) => attempt !== this.#winner && attempt.ringing && !attempt.done
    )
    return ringing ? 'ringing' : 'calling'
  }

  /** The user whose device answered (inbound and internal calls); null before or for carriers. */
  get answeredUserId(): number | null {
    return this.answered ? (this.#winner?.target.userId ?? null) : null
  }

  get ended() {
    return this.#phase === CallPhase.Ended
  }

  get phase(): CallPhase {
    return this.#phase
  }

  /** Moves the call forward; never back (a late 180 after the answer changes nothing). */
  #enter(phase: CallPhase) {
    const order = Object.values(CallPhase)
    if (order.indexOf(phase) > order.indexOf(this.#phase)) {
      this.#phase = phase
      this.#changed()
    }
  }

  #changed() {
    try {
      this.#services.changed?.(this)
    } catch (error) {
      this.#services.log('warn', 'call state listener failed', { err: error })
    }
  }

  #setTimer(callback: () => void, ms: number): TimerHandle {
    return this.#services.clock.setTimeout(callback, ms)
  }

  #clearTimer(handle: TimerHandle | undefined) {
    if (handle) this.#services.clock.clearTimeout(handle)
  }

  /** The media counters, for the live calls page and tests. */
  get relayed() {
    return this.#bridge?.relayed ?? { aToB: 0, bToA: 0 }
  }

  /** The call ends this long after it was answered (cause 'max_duration', or the gate's reason). */
  limitDuration(seconds: number, cause: DurationCause = 'max_duration') {
    this.#maxDurationMs = seconds * 1000
    this.#durationCause = cause
  }

  /**
   * Spend caps re-evaluated while the call runs (fraud): it ends `ms` from now with `cause`,
   * unless it ends sooner anyway. Before the answer the deadline waits for it; never extended.
   */
  endWithin(ms: number, cause: DurationCause) {
    if (this.ended) return
    const at = this.#services.clock.now() + Math.max(0, ms)
    if (this.#capDeadline && this.#capDeadline.at <= at) return
    this.#capDeadline = { at, cause }
    if (this.answered) this.#armDurationLimit()
  }

  /** The earliest of the maximum duration (from the answer) and a spend cap's deadline. */
  #deadline(): { at: number; cause: DurationCause } | undefined {
    const end =
      this.#maxDurationMs === undefined
        ? undefined
        : { at: this.#answeredOnClock + this.#maxDurationMs, cause: this.#durationCause }
    return this.#capDeadline && (!end || this.#capDeadline.at < end.at) ? this.#capDeadline : end
  }

  #armDurationLimit() {
    const clock = this.#services.clock
    const end = this.#deadline()
    if (!end) return
    this.#clearTimer(this.#durationTimer)
    this.#clearTimer(this.#warningTimer)
    const { at, cause } = end
    const now = clock.now()
    if (at <= now) {
      void this.#end(cause, 'system', null)
      return
    }
    this.#durationTimer = this.#setTimer(() => void this.#end(cause, 'system', null), at - now)
    if (this.warningTone) return
    // Less time left than the warning's lead: the tone comes halfway through what is left
    const warnAt = Math.max(at - this.#services.durationWarningMs, now + (at - now) / 2)
    this.#warningTimer = this.#setTimer(() => this.#warn(), Math.max(0, warnAt - now))
  }

  /** Packets the caller's media leg has received: whether the caller's audio reaches us. */
  get callerPacketsReceived(): number {
    const callerLeg = this.#callerSide === 'a' ? this.#aLeg : this.#mediaAttempt?.leg
    return callerLeg?.stats.packetsReceived ?? 0
  }

  /** The warning tone to the caller's leg: the call ends soon (maximum duration or spend cap). */
  #warn() {
    const bridge = this.#bridge
    if (this.ended || !bridge || this.warningTone) return
    const callerLeg = this.#callerSide === 'a' ? this.#aLeg : this.#mediaAttempt?.leg
    if (!callerLeg) return
    this.warningTone = bridge.playTone(callerLeg).catch((error) => {
      this.#services.log('warn', 'warning tone failed', { err: error })
      return 0
    })
  }

  /** Outbound: try the targets one after another until one answers or a final answer comes. */
  async connectSequential(targets: CallTarget[]) {
    let last: AttemptOutcome = { kind: 'response', status: 503 }
    // Ringing is bounded: a carrier that rings and vanishes (with a caller that vanished too)
    // must not keep the call, its CDR and its ports open for good.
    this.#ringTimer = this.#setTimer(
      () => void this.#outboundRingLimit(),
      this.#services.outboundRingLimitMs
    )
    for (const target of targets) {
      if (this.ended) return
      const attempt = await this.#start(target)
      if (!attempt) return
      const result = await attempt.result
      if (result.kind === 'accepted') {
        this.#clearTimer(this.#ringTimer)
        return this.#accepted(attempt, result.dialog, result.response)
      }
      if (result.kind === 'canceled' || this.ended) return
      this.#attempts.delete(attempt)
      this.#changed()
      await attempt.leg?.close()
      if (this.#outOfCapacity) return this.#fail(503, 'no_capacity')
      last = result.outcome
      const decision = decideFailover(result.outcome, result.ringing)
      this.#services.log('info', 'carrier attempt failed', {
        carrier: target.carrierName,
        outcome: result.outcome.kind === 'response' ? result.outcome.status : result.outcome.kind,
        decision,
      })
      if (decision === 'final') break
    }
    this.#clearTimer(this.#ringTimer)
    const status = last.kind === 'response' ? last.status : 503
    await this.#fail(status === 408 || status === 503 || last.kind !== 'response' ? 503 : status)
  }

  /** Inbound: ring every target at once; the first answer wins; a timeout gives 480. */
  async connectParallel(targets: CallTarget[], ringTimeoutMs: number) {
    const outcome = await this.ring(targets, ringTimeoutMs)
    if (outcome.kind === 'unanswered') await this.#fail(outcome.status, outcome.cause)
  }

  /**
   * Rings every target at once for at most `ringTimeoutMs`; the first answer wins. Unanswered
   * (nobody reachable, busy, declined, the time ran out) leaves the caller waiting, so that a
   * forwarding can take the call on; connectParallel gives the caller the status instead.
   */
  async ring(targets: CallTarget[], ringTimeoutMs: number): Promise<RingOutcome> {
    let expired = false
    this.#ringTimer = this.#setTimer(() => {
      if (this.#winner || this.ended) return
      expired = true
      for (const attempt of this.#attempts) {
        attempt.cancel()
        // A device that is gone never answers the CANCEL: the stage must not wait for it.
        attempt.settle({ kind: 'canceled' })
      }
    }, ringTimeoutMs)
    const attempts = (await Promise.all(targets.map((target) => this.#start(target)))).filter(
      (attempt): attempt is CallAttempt => attempt !== undefined
    )
    if (!attempts.length) {
      this.#clearTimer(this.#ringTimer)
      return this.ended ? { kind: 'ended' } : { kind: 'unanswered', status: 480, cause: 'missed' }
    }
    if (!this.ended) this.#invite.progress(180)
    const statuses: number[] = []
    await Promise.all(
      attempts.map(async (first) => {
        let attempt: CallAttempt | undefined = first
        while (attempt) {
          const result: AttemptResult = await attempt.result
          if (result.kind === 'accepted') {
            if (this.#winner || this.ended) {
              // A second answer after the first: RFC 3261 13.2.2.4 would be ours to end.
              result.dialog.bye()
              await attempt.leg.close()
              return
            }
            this.#clearTimer(this.#ringTimer)
            for (const other of this.#attempts) if (other !== attempt) other.cancel()
            await this.#accepted(attempt, result.dialog, result.response)
            return
          }
          this.#attempts.delete(attempt)
          this.#changed()
          await attempt.leg?.close()
          const status =
            result.kind === 'failed' && result.outcome.kind === 'response'
              ? result.outcome.status
              : null
          // A TLS phone set to plain RTP refuses our SRTP offer: it rings again, offered RTP
          const fallback = attempt.target.plainFallback
          if (status === 488 && fallback && this.#stillRinging(expired)) {
            attempt = await this.#start(fallback)
            continue
          }
          if (status !== null) statuses.push(status)
          return
        }
      })
    )
    this.#clearTimer(this.#ringTimer)
    if (this.#winner) return { kind: 'answered' }
    if (this.ended) return { kind: 'ended' }
    if (this.#outOfCapacity && !statuses.length)
      return { kind: 'unanswered', status: 503, cause: 'no_capacity' }
    if (expired) return { kind: 'unanswered', status: 480, cause: 'missed' }
    const status = statuses.includes(486) ? 486 : statuses.includes(603) ? 603 : 480
    return { kind: 'unanswered', status, cause: status === 480 ? 'missed' : undefined }
  }

  /** Nobody answered, the caller is still there and the ring time has not run out. */
  #stillRinging(expired: boolean) {
    return !expired && !this.#winner && !this.ended
  }

  /**
   * Another CDR that lives and dies with this call: the outbound call a forwarding placed (billed
   * to the company). It is answered with the call and closed with the same cause.
   */
  follow(record: CallRecord) {
    this.#followers.push(record)
  }

  /** The echo-test number: answered here, the caller hears itself; no carrier involved. */
  async answerEcho() {
    const { sdp: answer } = await this.#aLeg.answer(this.#aOffer, { codecs: this.#aCodecs })
    if (!this.#invite.incoming.canRespond) return this.#end('cancelled', 'caller', 487)
    // Committed before the 200 OK goes out, as every answer (issue 17)
    await this.#writeAnswer()
    const dialog = this.ended ? undefined : this.#invite.accept({ description: sdp(answer) })
    if (!dialog) {
      this.#unanswer()
      return this.#end('cancelled', 'caller', 487)
    }
    this.#aDialog = dialog
    this.answeredAt = new Date()
    this.#enter(CallPhase.Answered)
    this.#watchDialog(dialog, 'a')
    await this.#aLeg.ready()
    this.#echo = this.#services.media.echo(this.#aLeg)
  }

  /** The answer being written before the caller's 200 goes out (an end meanwhile waits for it). */
  #answerWrite: Promise<void> | undefined

  /**
   * Writes the answer of the call, with the dialogs to keep, and of its followers (the caller's
   * 200 waits for it).
   */
  #writeAnswer(legs: PersistedLeg[] = []) {
    this.#answerWrite = (async () => {
      await this.#services.answer(this.record, legs)
      for (const follower of this.#followers) await this.#services.cdr.answered(follower)
    })()
    return this.#answerWrite
  }

  /**
   * The answer was written but the caller's 200 never went out (a CANCEL crossed it): the call
   * was not put through, so the end writes no answer (nor a duration).
   */
  #unanswer() {
    if (this.answered) return
    for (const record of [this.record, ...this.#followers]) record.answeredAt = null
  }

  /** Handling the call failed (a resource ran out, a bug): final answer to A, legs closed, CDR closed. */
  abort(status: number, cause?: DisconnectCause, reason?: string) {
    return this.#fail(status, cause, undefined, reason)
  }

  /**
   * Whether the caller or the callee side runs over this client connection (a SIP WebSocket, or
   * its flow at a trusted front); a web phone that reconnected moved its dialog to the new connection.
   */
  sideOn(connectionId: string): Exclude<HungUpBy, 'system'> | null {
    const a = this.#aDialog?.flowConnectionId ?? this.#aConnectionId
    const b = this.#bDialog?.flowConnectionId ?? this.#winner?.target.connectionId
    const aFront = this.#aFrontFlow
    const bFront = this.#winner?.target.frontFlow
    const side =
      a === connectionId || aFront === connectionId
        ? 'a'
        : b === connectionId || bFront === connectionId
          ? 'b'
          : null
    if (!side) return null
    return side === this.#callerSide ? 'caller' : 'callee'
  }

  /** Staff ended the call, the process shuts down or a web phone went away: BYE both sides. */
  hangUp(cause: DisconnectCause, hungUpBy: HungUpBy = 'system') {
    if (!this.answered) {
      for (const attempt of this.#attempts) attempt.cancel()
      this.#invite.reject(cause === 'system_shutdown' ? 503 : 480)
    }
    return this.#end(cause, hungUpBy, null)
  }

  /** Whether `leg` is one of this call's media legs (side A's, a B attempt's, the winner's). */
  holdsLeg(leg: MediaLeg) {
    if (leg === this.#aLeg || leg === this.#winner?.leg) return true
    for (const attempt of this.#attempts) if (attempt.leg === leg) return true
    return false
  }

  /**
   * The media engine lost one of the call's legs (its media worker died, or a browser's WebRTC
   * connection failed), bridged or not (an echo test, a call still ringing): the call ends with
   * media_failed, 503 to a caller not answered yet.
   */
  mediaLost() {
    if (this.ended) return
    return this.#end('media_failed', 'system', this.answered ? null : 503)
  }

  async #start(
    target: CallTarget,
    offered: AudioCodecName[] = this.#aCodecs,
    pairing: { partner: MediaLeg | undefined; epoch: number } = {
      partner: this.#aLeg,
      epoch: this.#epoch,
    }
  ): Promise<CallAttempt | undefined> {
    const attempt = new CallAttempt(target, this.#services.clock)
    try {
      attempt.leg = await target.createLeg(this.#aLeg)
      // A's codecs in A's order (Opus first from a browser); a carrier only its profile's G.711
      // codecs (no transcoding: none in common → this target fails, as before)
      const codecs = offered.filter((codec) => !target.codecs || target.codecs.includes(codec))
      if (!codecs.length) throw new Error(`no common codec with ${target.label}`)
      const offer = await attempt.leg.createOffer({ codecs, payloadTypesFrom: this.#aOffer })
      attempt.offeredCodecs = codecs
      if (this.ended) {
        await attempt.leg.close()
        return undefined
      }
      const options = target.inviteOptions(offer)
      // A browser called by a browser answers the key exchange (the caller's side starts it).
      if (attempt.leg.kind === 'webrtc' && pairing.partner?.kind === 'webrtc')
        options.headers = [...(options.headers ?? []), roleHeader('responder', pairing.epoch)]
      this.#attempts.add(attempt)
      this.#changed()
      attempt.outgoing = this.#services.core.invite({
        ...options,
        delegate: {
          onProgress: (response, dialog) => this.#progress(attempt, response, dialog),
          onAccepted: (dialog, response) => {
            attempt.peerAllows = response.headers.getAll('allow').join(', ') || null
            attempt.settle({ kind: 'accepted', dialog, response })
          },
          onRejected: (response) =>
            attempt.settle({
              kind: 'failed',
              outcome: { kind: 'response', status: response.status },
              ringing: attempt.ringing,
            }),
          onCanceled: () => attempt.settle({ kind: 'canceled' }),
        },
      })
      attempt.armTryingTimer(this.#services.tryingTimeoutMs)
      return attempt
    } catch (error) {
      if (error instanceof MediaCapacityError) {
        this.#outOfCapacity = true
        this.#services.outOfCapacity(error.resource)
      } else {
        this.#services.log('warn', 'could not start a call leg', {
          target: target.label,
          err: error,
        })
      }
      this.#attempts.delete(attempt)
      this.#changed()
      await attempt.leg?.close().catch(() => {})
      attempt.settle({ kind: 'failed', outcome: { kind: 'transport_error' }, ringing: false })
      return attempt
    }
  }

  #progress(attempt: CallAttempt, response: SipResponse, dialog: SipDialog | undefined) {
    attempt.provisional = true
    if (response.status < 180 || this.ended) return
    attempt.ringing = true
    // A transfer's new party rings: the call itself was answered long ago.
    if (this.#winner) return
    this.#enter(CallPhase.Ringing)
    const early = sdpOf({
      body: response.body,
      contentType: response.contentType ?? 'application/sdp',
    })
    if (early && response.body.length > 0) {
      attempt.earlyDialog = dialog
      void this.#serialised(() => this.#earlyMedia(attempt, early))
    } else if (!this.#aAnswerSdp) {
      this.#invite.progress(180)
    }
  }

  /**
   * Early media (183 with SDP): A hears B before the answer; the latest fork with media wins.
   * A 183 can only repeat A's first early answer, so a fork with another codec stays mute
   * until its 200 lets us re-offer A (never a transcoder).
   */
  async #earlyMedia(attempt: CallAttempt, answer: string) {
    if (this.ended || this.#winner || attempt.earlySdp === answer) return
    const negotiated = await this.#applyAnswer(attempt, answer)
    await this.#answerA(negotiated.audio.codec, 'early')
    this.#codecPending = this.#aCodec !== negotiated.audio.codec
    this.#connectMedia(attempt)
  }

  /**
   * RFC 3264 with forking: each fork answers our one offer. A leg takes one answer per offer, so
   * for a later fork's answer it is re-armed with the same offer (same port, codecs and keys).
   */
  async #applyAnswer(attempt: CallAttempt, answer: string) {
    if (attempt.earlySdp !== undefined)
      await attempt.leg.createOffer({ codecs: attempt.offeredCodecs })
    const negotiated = await attempt.leg.applyAnswer(answer)
    attempt.earlySdp = answer
    return negotiated
  }

  async #accepted(attempt: CallAttempt, dialog: SipDialog, response: SipResponse) {
    this.#winner = attempt
    this.#bDialog = dialog
    await this.#serialised(async () => {
      if (this.ended) {
        dialog.bye()
        return
      }
      const answer = sdpOf({
        body: response.body,
        contentType: response.contentType ?? 'application/sdp',
      })
      if (!answer || !response.body.length) {
        dialog.bye()
        await this.#end('failed', 'system', 488)
        return
      }
      // The early media's bridge relays nothing while the answer may change the codec: with the
      // media in another process (MEDIA_WORKERS) the answering fork's audio would otherwise reach
      // the caller under the old payload type until the codec hold below (#connectMedia)
      const renegotiates = attempt.earlySdp !== answer || !attempt.leg.negotiated
      if (renegotiates && this.#bridge && this.#mediaAttempt === attempt) this.#bridge.setHeld(true)
      const codec =
        !renegotiates && attempt.leg.negotiated
          ? attempt.leg.negotiated.audio.codec
          : (await this.#applyAnswer(attempt, answer)).audio.codec
      // The CDR's answer is committed before the caller's 200 OK goes out (issue 17): a crash
      // after the 200 always leaves an answered record to close and bill.
      if (!this.#invite.incoming.canRespond) {
        dialog.bye()
        await this.#end('cancelled', 'caller', 487)
        return
      }
      const encryption = attempt.target.encryption
      if (encryption) this.#services.cdr.encryption(this.record, 'callee', encryption)
      // Both sides' dialogs go with the answer (the caller's made ahead of its 200): recovery
      // sends BYE to the user's phone too.
      await this.#writeAnswer(this.#keptLegs(this.#invite.prepareDialog()))
      // A browser answered a browser: the caller's side starts the key exchange.
      const roles = this.#bothBrowsers(attempt.leg) ? [roleHeader('initiator', this.#epoch)] : []
      const aDialog = this.ended ? undefined : await this.#answerA(codec, 'final', roles)
      if (!aDialog) {
        // The caller cancelled while the answer was written: the call was never put through
        this.#unanswer()
        dialog.bye()
        await this.#end('cancelled', 'caller', 487)
        return
      }
      this.#aDialog = aDialog
      this.#codecPending = this.#aCodec !== codec
      this.#connectMedia(attempt)
      this.answeredAt = new Date()
      this.#answeredOnClock = this.#services.clock.now()
      this.#enter(CallPhase.Answered)
      this.#armDurationLimit()
      this.#watchDialog(aDialog, 'a')
      this.#watchDialog(dialog, 'b')
      attempt.target.onAnswered?.()
      if (this.#aCodec !== codec) await this.#reofferA(codec)
    })
  }

  /** Answers A (183 early or 200 final) with exactly `codec`, once; later the same SDP again. */
  async #answerA(
    codec: AudioCodecName,
    stage: 'early' | 'final',
    headers: Array<[string, string]> = []
  ): Promise<SipDialog | undefined> {
    if (!this.#aAnswerSdp) {
      const { sdp: answer } = await this.#aLeg.answer(this.#aOffer, { codecs: [codec] })
      this.#aAnswerSdp = answer
      this.#aCodec = codec
    }
    const description = sdp(this.#aAnswerSdp)
    if (stage === 'early') {
      this.#invite.progress(183, { description })
      return undefined
    }
    return this.#invite.accept({ description, headers })
  }

  /** A was answered with another codec (early media of a fork that lost): offer it the new one. */
  async #reofferA(codec: AudioCodecName) {
    if (!this.#aDialog) return
    if (await this.#reoffer('a', codec)) {
      this.#aCodec = codec
      this.#codecPending = false
      this.#updateHold()
    } else {
      await this.#end('failed', 'system', 488)
    }
  }

  /**
   * Offers one side its media anew by re-INVITE: exactly `codec`, in `direction` (a hold passed
   * on, its end, a codec change). False when that side refused it or is gone.
   */
  async #reoffer(
    side: 'a' | 'b',
    codec: AudioCodecName,
    direction: MediaDirection = 'sendrecv',
    headers: Array<[string, string]> = []
  ): Promise<boolean> {
    const dialog = this.#dialogOf(side)
    const leg = side === 'a' ? this.#aLeg : this.#winner?.leg
    if (!dialog || !leg || this.ended) return false
    const offer = await leg.createOffer({ codecs: [codec], direction })
    const roles = headers.some(([name]) => name === E2EE_HEADER) ? [] : this.#roleHeaders(side)
    const response = await dialog.reinvite({
      description: sdp(offer),
      headers: [...headers, ...roles],
    })
    const answer = sdpOf({
      body: response.body,
      contentType: response.contentType ?? 'application/sdp',
    })
    if (!response.isSuccess || !answer || !response.body.length) {
      this.#services.log('warn', 're-offer refused', { side, status: response.status })
      return false
    }
    await leg.applyAnswer(answer)
    this.#bridge?.refresh()
    return true
  }

  #connectMedia(attempt: CallAttempt) {
    if (this.#bridge) {
      if (this.#mediaAttempt && this.#mediaAttempt !== attempt)
        this.#bridge.replace(this.#mediaAttempt.leg, attempt.leg)
      else this.#bridge.refresh()
    } else {
      this.#bridge = this.#services.media.bridge(this.#aLeg, attempt.leg, {
        mediaTimeoutSeconds: this.#services.mediaTimeoutSeconds,
      })
      // A lost media worker (media_failed) ends the call like silence does, with its own cause
      this.#bridge.onEnded((reason) => void this.#end(reason, 'system', null))
    }
    this.#mediaAttempt = attempt
    this.#updateHold()
  }

  /** Nothing is relayed while either side holds or the codecs of the two legs differ. */
  #updateHold() {
    this.#bridge?.setHeld(this.#heldByA || this.#heldByB || this.#codecPending)
  }

  #dialogOf(side: 'a' | 'b'): SipDialog | undefined {
    return side === 'a' ? this.#aDialog : this.#bDialog
  }

  /**
   * Keeps the current parties' dialogs. A call that ended while they were written has dropped its
   * rows already (or is dropping them): drop them again, so no row outlives its call.
   */
  async #keepLegs() {
    await this.#services.persist(this.record, this.#keptLegs())
    if (this.ended) await this.#services.forget(this.record)
  }

  /** The dialogs of the call's current parties (A's given before it exists), as recovery keeps them. */
  #keptLegs(aDialog = this.#aDialog): PersistedLeg[] {
    const legs: PersistedLeg[] = []
    for (const side of ['b', 'a'] as const) {
      const dialog = side === 'a' ? aDialog : this.#bDialog
      if (dialog) legs.push({ dialog, party: this.#carrierOn(side) ? 'carrier' : 'user' })
    }
    return legs
  }

  #watchDialog(dialog: SipDialog, side: 'a' | 'b') {
    dialog.delegate = {
      onReinvite: (incoming) => void this.#serialised(() => this.#reinvite(side, incoming)),
      onRequest: (incoming) => this.#inDialog(side, dialog, incoming),
      onTerminated: (reason) => {
        if (this.ended) return
        if (this.#transfer?.side === side && dialog === this.#dialogOf(side)) {
          // A blind transferor often hangs up right after the 202: the transfer goes on.
          this.#transfer.transferorGone = true
          return
        }
        const byPeer = reason === DialogEndReason.ByeReceived
        const hungUpBy: HungUpBy = !byPeer
          ? 'system'
          : side === this.#callerSide
            ? 'caller'
            : 'callee'
        const cause: DisconnectCause = byPeer ? 'answered_normal' : 'failed'
        void this.#end(cause, hungUpBy, null)
      },
    }
  }

  /** A re-INVITE from one side: answered here; a change of hold state goes on to the other side. */
  async #reinvite(side: 'a' | 'b', incoming: IncomingRequest) {
    const leg = side === 'a' ? this.#aLeg : this.#winner?.leg
    const other = side === 'a' ? this.#bDialog : this.#aDialog
    const otherLeg = side === 'a' ? this.#winner?.leg : this.#aLeg
    const offer = sdpOf({
      body: incoming.request.body,
      contentType: incoming.request.contentType ?? 'application/sdp',
    })
    if (!leg || this.ended) {
      incoming.respond(481)
      return
    }
    if (!offer || !incoming.request.body.length) {
      // Offerless re-INVITE (RFC 3261 14.2): our current session is the offer; the ACK answers.
      incoming.respond(200, {
        description: sdp(await leg.createOffer({ codecs: [leg.negotiated!.audio.codec] })),
        headers: this.#roleHeaders(side),
      })
      return
    }
    const facts = sdpFacts(offer)
    const codec = leg.negotiated?.audio.codec
    let answer: string
    try {
      answer = (
        await leg.answer(offer, {
          codecs: codec ? [codec] : facts.codecs,
          direction: mirror(facts.direction),
        })
      ).sdp
    } catch {
      incoming.respond(488)
      return
    }
    incoming.respond(200, { description: sdp(answer), headers: this.#roleHeaders(side) })
    this.#bridge?.refresh()

    const held = isHold(facts.direction)
    const wasHeld = side === 'a' ? this.#heldByA : this.#heldByB
    if (held === wasHeld || !other || !otherLeg?.negotiated) return
    if (side === 'a') this.#heldByA = held
    else this.#heldByB = held
    this.#updateHold()
    await this.#reoffer(
      side === 'a' ? 'b' : 'a',
      otherLeg.negotiated.audio.codec,
      held ? (facts.direction === 'inactive' ? 'inactive' : 'sendonly') : 'sendrecv'
    )
  }

  /** Requests inside an answered call besides re-INVITE and BYE: REFER (transfer), keep-alives. */
  #inDialog(side: 'a' | 'b', dialog: SipDialog, incoming: IncomingRequest) {
    const request = incoming.request
    if (request.method === 'REFER') {
      this.#refer(side, dialog, incoming).catch(async (error) => {
        this.#services.log('error', 'transfer failed', { err: error })
        incoming.respond(500)
        await this.#transferFailed(dialog, 500)
      })
      return
    }
    // OPTIONS and an empty INFO (a keep-alive; a reconnected web phone moving its call).
    if (request.method === 'OPTIONS' || (request.method === 'INFO' && request.body.length === 0))
      incoming.respond(200)
    else if (request.method === 'INFO' && isKeyExchange(request.contentType))
      this.#keyExchange(side, dialog, incoming)
    else incoming.respond(405)
  }

  /**
   * One step of the browsers' key exchange (issue 22): relayed as it is to the other side's dialog
   * (commit, dhpart, reveal, abort), or taken here (confirm: that side's keys are installed; both
   * for the same epoch mark the CDR end-to-end encrypted). The body is never logged.
   */
  #keyExchange(side: 'a' | 'b', dialog: SipDialog, incoming: IncomingRequest) {
    if (this.ended || dialog !== this.#dialogOf(side))
      return incoming.respond(481, { reason: 'Call Does Not Exist' })
    if (!this.answered || this.#transfer)
      return incoming.respond(491, { reason: 'Request Pending' })
    if (!this.#bothBrowsers()) return incoming.respond(403, { reason: 'Not Browser To Browser' })
    const parsed = parseKeyMessage(incoming.request.body)
    if ('status' in parsed) return incoming.respond(parsed.status, { reason: parsed.reason })
    const { message } = parsed
    if (message.epoch !== this.#epoch) return incoming.respond(400, { reason: 'Wrong Epoch' })
    if (message.type === 'confirm') {
      this.#confirmed.add(side)
      incoming.respond(200)
      if (this.#confirmed.size === 2) this.#services.cdr.endToEndEncrypted(this.record)
      return
    }
    const other = this.#dialogOf(side === 'a' ? 'b' : 'a')
    if (!other) return incoming.respond(481, { reason: 'Call Does Not Exist' })
    let body = incoming.request.body
    const rewrite = keyExchangeTamper.rewrite
    if (rewrite) {
      const from = side === this.#initiatorSide ? 'initiator' : 'responder'
      body = rewrite({ message, from, body }) ?? body
    }
    try {
      other.request('INFO', { description: { body, contentType: E2EE_CONTENT_TYPE } })
    } catch {
      return incoming.respond(481, { reason: 'Call Does Not Exist' })
    }
    incoming.respond(200)
  }

  /**
   * Blind transfer (RFC 3515 with Referred-By, RFC 3892): the callee's phone or browser refers its
   * party to a colleague or a number outside. The B2BUA decides (call gates for numbers outside)
   * and rings the new target offering the party's codec; on the answer the party's media moves to
   * the new leg, the transferor gets NOTIFY 200 and BYE. A carrier never sees the REFER; a failed
   * transfer leaves the call as it was (NOTIFY with the status), or ends it when the transferor
   * has hung up meanwhile.
   */
  async #refer(side: 'a' | 'b', dialog: SipDialog, incoming: IncomingRequest) {
    const refer = parseRefer(incoming.request)
    if (!refer) return incoming.respond(400, { reason: 'Bad Refer-To' })
    const carrierSide = side === 'a' ? this.#aIsCarrier : this.#winner?.target.carrier
    if (carrierSide) return incoming.respond(403, { reason: 'Transfer not offered' })
    if (
      !this.answered ||
      this.ended ||
      this.#transfer ||
      !this.#bridge ||
      dialog !== this.#dialogOf(side)
    )
      return incoming.respond(491, { reason: 'Request Pending' })
    const transferorUserId = side === 'a' ? this.#aUserId : (this.#winner?.target.userId ?? null)
    if (refer.replaces)
      return this.#attended(side, dialog, incoming, refer.replaces, transferorUserId)
    if (!this.#services.transfer) return incoming.respond(403, { reason: 'Transfer not offered' })
    this.#transfer = { side, transferorGone: false }
    const plan = await this.#services.transfer({
      session: this,
      side,
      dialled: refer.target.userText() ?? '',
      transferorUserId,
      sourceAddress: clientOf(incoming.request, incoming.transaction.destination).host,
    })
    if (plan.kind === 'refused' || this.ended) {
      this.#transfer = undefined
      if (plan.kind === 'refused') incoming.respond(plan.status, { reason: plan.reason })
      else incoming.respond(481)
      if (plan.kind === 'targets' && plan.follower)
        await this.#services.cdr.end(plan.follower, {
          cause: 'cancelled',
          sipStatus: 487,
          hungUpBy: 'caller',
        })
      return
    }
    incoming.respond(202)
    notifyReferProgress(dialog, 100, 'Trying')
    // The party's codec first; for A another of its offer means re-offering it on the answer.
    const current =
      side === 'b'
        ? (this.#aLeg.negotiated?.audio.codec ?? this.#aCodec)
        : this.#winner?.leg.negotiated?.audio.codec
    const codecs =
      side === 'a' && current
        ? [current]
        : current
          ? [current, ...this.#aCodecs.filter((codec) => codec !== current)]
          : this.#aCodecs
    const pairing = {
      partner: side === 'b' ? this.#aLeg : this.#winner?.leg,
      epoch: this.#epoch + 1,
    }
    const result = await this.#ringTransfer(
      plan.targets,
      plan.parallel,
      codecs,
      plan.ringMs,
      pairing
    )
    if ('status' in result) {
      if (plan.follower)
        await this.#services.cdr.end(plan.follower, {
          cause: causeOfStatus(result.status),
          sipStatus: result.status,
          hungUpBy: 'system',
        })
      return this.#transferFailed(dialog, result.status)
    }
    await this.#serialised(() => this.#transferred(side, dialog, result, plan))
  }

  /**
   * Attended transfer (RFC 3891 Replaces in Refer-To): the transferor talked to the new party in a
   * call of its own (consultation) and now joins its two far ends. That call hands its answered
   * far leg over (no new INVITE: the new party already talks through us), the party's media moves
   * to it, the transferor gets NOTIFY 200 and BYE on both of its calls. The consultation's CDR
   * closes; an outbound one (a carrier) goes on with the joined call, billed to the company.
   */
  async #attended(
    side: 'a' | 'b',
    dialog: SipDialog,
    incoming: IncomingRequest,
    replaces: Replaces,
    transferorUserId: number | null
  ) {
    const consulted = this.#services.consulted?.({ session: this, replaces, transferorUserId })
    if (!consulted || consulted === this)
      return incoming.respond(403, { reason: 'No call of yours to join' })
    const party = consulted.handOver()
    if (!party) return incoming.respond(403, { reason: 'The consulted call is not answered' })
    this.#transfer = { side, transferorGone: false }
    incoming.respond(202)
    notifyReferProgress(dialog, 100, 'Trying')
    await this.#serialised(async () => {
      if (this.ended) {
        // The party hung up in the meantime: the consulted call is over too.
        party.dialog.bye()
        await party.attempt.leg.close()
        await this.#closeRecords(party.records, {
          cause: 'answered_normal',
          sipStatus: 200,
          hungUpBy: 'caller',
        })
        return
      }
      await this.#join(side, dialog, party)
    })
    await consulted.hangUp('answered_normal', 'caller')
  }

  /**
   * The consulted call of an attended transfer gives its far side (the new party: leg, dialog, the
   * outbound CDRs) to the call it joins and keeps only the transferor's side, which then ends.
   * Null when there is nothing to hand over: not answered yet, ending, or itself transferring.
   */
  handOver(): HandedOver | null {
    const attempt = this.#winner
    const dialog = this.#bDialog
    if (!this.answered || this.ended || this.#transfer || !attempt || !dialog) return null
    if (this.#callerSide !== 'a' || this.#codecPending) return null
    // The bridge lets go of both legs before the other call's bridge takes this one.
    this.#bridge?.close()
    this.#bridge = undefined
    this.#attempts.delete(attempt)
    this.#winner = undefined
    this.#mediaAttempt = undefined
    this.#bDialog = undefined
    dialog.delegate = {}
    const carrier = Boolean(attempt.target.carrier)
    const records = carrier ? [this.record, ...this.#followers.splice(0)] : []
    this.#recordHandedOver = carrier
    const deadline = this.#deadline()
    this.#clearTimer(this.#durationTimer)
    this.#clearTimer(this.#warningTimer)
    this.#changed()
    return {
      attempt,
      dialog,
      held: this.#heldByA,
      records,
      limit: deadline && { ms: deadline.at - this.#services.clock.now(), cause: deadline.cause },
      shownAs: this.record.calleeNumber ?? '',
    }
  }

  /** The CDR's flags for the side a transfer gave a new party: encrypted only if both were. */
  #recordJoinedEncryption(side: 'a' | 'b', attempt: CallAttempt) {
    const joined = attempt.target.encryption
    if (!joined) return
    const record = this.record
    const before =
      side === 'a'
        ? { signalling: record.callerSignallingEncrypted, media: record.callerMediaEncrypted }
        : { signalling: record.calleeSignallingEncrypted, media: record.calleeMediaEncrypted }
    const sideName = side === 'a' ? 'caller' : 'callee'
    this.#services.cdr.encryption(record, sideName, bothEncrypted(before, joined))
  }

  /** Is this call's caller dialog the one a Replaces header names (RFC 3891: to-tag is ours)? */
  callerDialogIs(replaces: Replaces): boolean {
    const dialog = this.#aDialog
    return (
      this.#callerSide === 'a' &&
      dialog !== undefined &&
      dialog.callId === replaces.callId &&
      dialog.localTag === replaces.toTag &&
      dialog.remoteTag === replaces.fromTag
    )
  }

  /** Rings the transfer's targets (at once, or one after another) offering only the party's codec. */
  async #ringTransfer(
    targets: CallTarget[],
    parallel: boolean,
    codecs: AudioCodecName[],
    ringMs: number,
    pairing: { partner: MediaLeg | undefined; epoch: number }
  ): Promise<
    { attempt: CallAttempt; dialog: SipDialog; response: SipResponse } | { status: number }
  > {
    const tried: CallAttempt[] = []
    const timer = this.#setTimer(() => {
      for (const attempt of tried) {
        attempt.cancel()
        attempt.settle({ kind: 'canceled' })
      }
    }, ringMs)
    const failed = async (attempt: CallAttempt) => {
      this.#attempts.delete(attempt)
      this.#changed()
      await attempt.leg?.close()
    }
    try {
      if (!parallel) {
        let last = 503
        for (const target of targets) {
          if (this.ended) return { status: 487 }
          const attempt = await this.#start(target, codecs, pairing)
          if (!attempt) return { status: 487 }
          tried.push(attempt)
          const result = await attempt.result
          if (result.kind === 'accepted') return { attempt, ...result }
          await failed(attempt)
          if (result.kind === 'canceled') return { status: 480 }
          last = result.outcome.kind === 'response' ? result.outcome.status : 503
          if (decideFailover(result.outcome, result.ringing) === 'final') break
        }
        return { status: last }
      }
      const attempts = (
        await Promise.all(targets.map((target) => this.#start(target, codecs, pairing)))
      ).filter((attempt): attempt is CallAttempt => attempt !== undefined)
      tried.push(...attempts)
      if (!attempts.length) return { status: 480 }
      return await new Promise((resolve) => {
        let pending = attempts.length
        let won = false
        const statuses: number[] = []
        for (const attempt of attempts) {
          void attempt.result.then(async (result) => {
            if (result.kind === 'accepted') {
              if (won) {
                result.dialog.bye()
                await failed(attempt)
                return
              }
              won = true
              for (const other of attempts) if (other !== attempt) other.cancel()
              resolve({ attempt, dialog: result.dialog, response: result.response })
              return
            }
            await failed(attempt)
            if (result.kind === 'failed' && result.outcome.kind === 'response')
              statuses.push(result.outcome.status)
            pending -= 1
            if (pending === 0 && !won)
              resolve({ status: statuses.includes(486) ? 486 : statuses.includes(603) ? 603 : 480 })
          })
        }
      })
    } finally {
      this.#clearTimer(timer)
    }
  }

  /** Blind transfer: the new party answered; the call goes on with it (or the answer was unusable). */
  async #transferred(
    side: 'a' | 'b',
    transferorDialog: SipDialog,
    won: { attempt: CallAttempt; dialog: SipDialog; response: SipResponse },
    plan: Extract<TransferPlan, { kind: 'targets' }>
  ) {
    const { attempt, dialog, response } = won
    const answer = sdpOf({
      body: response.body,
      contentType: response.contentType ?? 'application/sdp',
    })
    const negotiated = this.ended || !answer ? null : await this.#applyAnswer(attempt, answer)
    if (!negotiated) {
      dialog.bye()
      this.#attempts.delete(attempt)
      await attempt.leg.close()
      if (plan.follower)
        await this.#services.cdr.end(plan.follower, {
          cause: 'failed',
          sipStatus: 488,
          hungUpBy: 'system',
        })
      return this.#transferFailed(transferorDialog, 488)
    }
    await this.#join(side, transferorDialog, {
      attempt,
      dialog,
      held: false,
      records: plan.follower ? [plan.follower] : [],
      limit:
        plan.maxDurationSeconds === undefined
          ? undefined
          : { ms: plan.maxDurationSeconds * 1000, cause: plan.durationCause ?? 'max_duration' },
      shownAs: plan.shownAs,
    })
  }

  /**
   * The transfer's new party takes the transferor's place: the party's media moves to its leg,
   * the transferor gets NOTIFY 200 and BYE, the CDR names the new party. Both ends talk at once:
   * a hold the transferor left on either is lifted, and a codec the party does not share is
   * re-offered (never transcoded).
   */
  async #join(side: 'a' | 'b', transferorDialog: SipDialog, party: HandedOver) {
    const { attempt, dialog } = party
    const codec = attempt.leg.negotiated!.audio.codec
    notifyReferProgress(transferorDialog, 200, 'OK')
    transferorDialog.delegate = {}
    if (!this.#transfer?.transferorGone) transferorDialog.bye()
    const partyHeld = side === 'b' ? this.#heldByB : this.#heldByA
    let previous: MediaLeg
    if (side === 'b') {
      previous = this.#winner!.leg
      this.#attempts.delete(this.#winner!)
      this.#attempts.add(attempt)
      this.#winner = attempt
      this.#bDialog = dialog
      this.#heldByB = false
      // Nothing is relayed until both legs share one codec (re-offered below).
      this.#codecPending = this.#aCodec !== codec
      this.#connectMedia(attempt)
    } else {
      // The caller's side changes hands: the new party is side A from now on.
      previous = this.#aLeg
      this.#attempts.delete(attempt)
      this.#bridge!.replace(previous, attempt.leg)
      this.#aLeg = attempt.leg
      this.#aDialog = dialog
      this.#aCodec = codec
      this.#aCodecs = [codec]
      this.#aIsCarrier = Boolean(attempt.target.carrier)
      this.#aUserId = attempt.target.userId ?? null
      this.#aConnectionId = attempt.target.connectionId
      this.#aFrontFlow = attempt.target.frontFlow
      this.#aAllows = attempt.peerAllows
      this.#heldByA = false
      this.#codecPending = this.#winner?.leg.negotiated?.audio.codec !== codec
      this.#updateHold()
    }
    await previous.close()
    this.#recordJoinedEncryption(side, attempt)
    // A new pairing: a new key exchange, started by the side that kept its dialog.
    this.#epoch += 1
    this.#confirmed.clear()
    this.#initiatorSide = side === 'b' ? 'a' : 'b'
    this.#watchDialog(dialog, side)
    this.#transfer = undefined
    this.#changed()
    this.#identity[side] = party.shownAs
    await this.#services.cdr.forwarded(this.record, party.shownAs, 'transfer')
    for (const record of party.records) {
      this.follow(record)
      await this.#services.cdr.answered(record)
    }
    await this.#keepLegsAfterTransfer(party.records)
    if (party.limit) this.endWithin(party.limit.ms, party.limit.cause)
    const partySide = side === 'b' ? 'a' : 'b'
    const partyCodec = side === 'b' ? this.#aCodec! : this.#winner!.leg.negotiated!.audio.codec
    let shared = codec
    let reoffered: 'a' | 'b' | null = null
    if (partyCodec !== codec) {
      // The party takes the new party's codec if it offered it; else the new party the party's.
      if (side === 'b' && this.#aCodecs.includes(codec)) {
        await this.#reofferA(codec)
        reoffered = 'a'
      } else {
        shared = partyCodec
        if (!(await this.#reoffer(side, shared))) return this.#end('failed', 'system', 488)
        if (side === 'a') this.#aCodec = shared
        this.#codecPending = false
        reoffered = side
      }
    }
    this.#updateHold()
    // Both learn whom they talk to now; a re-offer that lifts a hold carries it to a browser.
    const told = { a: false, b: false }
    for (const [which, wasHeld] of [
      [partySide, partyHeld],
      [side, party.held],
    ] as const) {
      const other = which === 'a' ? 'b' : 'a'
      if (wasHeld && reoffered !== which) {
        await this.#reoffer(which, shared, 'sendrecv', this.#identityHeaders(which, other))
        told[which] = true
      }
      await this.#tellIdentity(which, told[which])
    }
  }

  /**
   * The kept dialogs follow the parties: the transferor's goes, the new party's comes, all under
   * this call's CDR (the CDRs that went on with the new party are closed with it anyway). Rare, so
   * a transfer may cost a few statements more than a plain call.
   */
  async #keepLegsAfterTransfer(records: CallRecord[]) {
    if (this.ended) return
    try {
      for (const record of [this.record, ...records]) await this.#services.forget(record)
      await this.#keepLegs()
    } catch (error) {
      this.#services.log('warn', 'could not keep the transferred call for crash recovery', {
        err: error,
      })
    }
  }

  /** P-Asserted-Identity (RFC 3325) of the party `side` talks to, as our own phones are told it. */
  #identityHeaders(side: 'a' | 'b', other: 'a' | 'b' = side === 'a' ? 'b' : 'a') {
    if (this.#carrierOn(side)) return []
    const number = this.#identity[other]
    const domain = this.#services.identityDomain ?? 'localhost'
    const uri = number ? `sip:${number}@${domain}` : 'sip:anonymous@anonymous.invalid'
    // A browser learns its role in the new pairing, or that its new party is no browser.
    return [['P-Asserted-Identity', `<${uri}>`], ...this.#roleHeaders(side)] as Array<
      [string, string]
    >
  }

  /**
   * The role header for a browser on `side` in the current pairing (none when its party is no
   * browser); nothing for a SIP phone or carrier. Every re-INVITE to a browser and every answer to
   * a browser's re-INVITE carries it, so a hold or codec change never reads as "no browser".
   */
  #roleHeaders(side: 'a' | 'b'): Array<[string, string]> {
    if (this.#legOf(side)?.kind !== 'webrtc') return []
    const role = !this.#bothBrowsers()
      ? 'none'
      : side === this.#initiatorSide
        ? 'initiator'
        : 'responder'
    return [roleHeader(role, this.#epoch)]
  }

  #legOf(side: 'a' | 'b'): MediaLeg | undefined {
    return side === 'a' ? this.#aLeg : this.#winner?.leg
  }

  /** Both parties are browsers (WebRTC legs): the call can be end-to-end encrypted. */
  #bothBrowsers(bLeg: MediaLeg | undefined = this.#winner?.leg) {
    return this.#aLeg.kind === 'webrtc' && bLeg?.kind === 'webrtc'
  }

  #carrierOn(side: 'a' | 'b') {
    return side === 'a' ? this.#aIsCarrier : Boolean(this.#winner?.target.carrier)
  }

  /**
   * After a transfer our own phone or browser on `side` learns whom it talks to now: a browser by
   * re-INVITE (unless a re-offer told it already), a SIP phone by UPDATE (RFC 3311) where it allows
   * UPDATE, else not at all. A carrier never: towards it the caller ID does not change mid-call.
   */
  async #tellIdentity(side: 'a' | 'b', toldByReoffer: boolean) {
    const dialog = this.#dialogOf(side)
    const leg = side === 'a' ? this.#aLeg : this.#winner?.leg
    if (!dialog || !leg?.negotiated || this.ended || this.#carrierOn(side)) return
    const headers = this.#identityHeaders(side)
    if (leg.kind === 'webrtc') {
      if (!toldByReoffer) await this.#reoffer(side, leg.negotiated.audio.codec, 'sendrecv', headers)
      return
    }
    const allows = side === 'a' ? this.#aAllows : (this.#winner?.peerAllows ?? null)
    if (!allows || !/\bUPDATE\b/i.test(allows)) return
    const response = await dialog.update({ headers })
    if (!response.isSuccess)
      this.#services.log('info', 'identity update refused', { side, status: response.status })
  }

  /** The transfer did not happen: the transferor hears why; a transferor who left ends the call. */
  async #transferFailed(transferorDialog: SipDialog, status: number) {
    const gone = this.#transfer?.transferorGone ?? false
    this.#transfer = undefined
    if (gone) return this.#end(causeOfStatus(status), 'system', null)
    notifyReferProgress(transferorDialog, status)
  }

  async #outboundRingLimit() {
    if (this.#winner || this.ended) return
    this.#services.log('info', 'outbound ring limit reached', {
      limitMs: this.#services.outboundRingLimitMs,
    })
    for (const attempt of this.#attempts) {
      attempt.cancel()
      // A carrier that is gone never answers the CANCEL: the loop must not wait for it.
      attempt.settle({ kind: 'canceled' })
    }
    await this.#fail(480, 'no_answer', 'system')
  }

  async #canceledByA() {
    for (const attempt of this.#attempts) attempt.cancel()
    await this.#end(
      this.#callerSide === 'a' && this.record.direction === 'inbound' ? 'missed' : 'cancelled',
      'caller',
      487
    )
  }

  async #fail(status: number, cause?: DisconnectCause, hungUpBy?: HungUpBy, reason?: string) {
    if (status === 503) {
      this.#invite.reject(503, {
        headers: [['Retry-After', String(this.#services.retryAfterSeconds)]],
        reason,
      })
    } else {
      this.#invite.reject(status, { reason })
    }
    const by =
      hungUpBy ??
      (cause === 'no_capacity' || cause === 'failed'
        ? 'system'
        : status === 487
          ? 'caller'
          : 'callee')
    await this.#end(cause ?? causeOfStatus(status), by, status)
  }

  async #end(cause: DisconnectCause, hungUpBy: HungUpBy | null, status: number | null) {
    if (this.ended) return
    this.#enter(CallPhase.Ended)
    this.#clearTimer(this.#ringTimer)
    this.#clearTimer(this.#durationTimer)
    this.#clearTimer(this.#warningTimer)
    // A must never be left without a final answer (a no-op when it has one).
    if (!this.answered) this.#invite.reject(status !== null && status >= 300 ? status : 500)
    this.#recordQuality()
    this.#echo?.close()
    this.#bridge?.close()
    for (const attempt of this.#attempts) attempt.cancel()
    // Both parties learn why the system ended the call (the web phone says it in words)
    const reason = hungUpBy === 'system' ? [systemEndReason(cause)] : []
    this.#aDialog?.bye(reason)
    this.#bDialog?.bye(reason)
    const legs = [this.#aLeg, ...[...this.#attempts].map((attempt) => attempt.leg)].filter(Boolean)
    await Promise.allSettled(legs.map((leg) => leg.close()))
    if (this.#answerWrite && !this.answered) {
      await this.#answerWrite.catch(() => {})
      this.#unanswer()
    }
    const records = this.#recordHandedOver ? [] : [this.record]
    await this.#closeRecords([...records, ...this.#followers], {
      cause:
        this.answered &&
        cause !== 'media_timeout' &&
        cause !== 'media_failed' &&
        hungUpBy !== 'system'
          ? 'answered_normal'
          : cause,
      sipStatus: status ?? (this.answered ? 200 : null),
      hungUpBy,
    })
    this.#services.ended(this)
  }

  /**
   * Loss and jitter of the audio each side sent us so far (for the live calls page); null for a
   * side without a leg or audio yet.
   */
  get liveQuality(): Record<'caller' | 'callee', { lossPercent: number; jitterMs: number } | null> {
    const [callerLeg, calleeLeg] =
      this.#callerSide === 'a' ? [this.#aLeg, this.#winner?.leg] : [this.#winner?.leg, this.#aLeg]
    const figures = (leg: MediaLeg | undefined) => {
      const quality = leg?.quality
      if (!quality || quality.packetsExpected === 0) return null
      return { lossPercent: quality.lossFraction * 100, jitterMs: quality.jitterMs }
    }
    return { caller: figures(callerLeg), callee: figures(calleeLeg) }
  }

  /**
   * Puts the call's quality on its CDRs before the legs close (what the legs measured: after a
   * transfer, the current parties' legs only).
   */
  #recordQuality() {
    const a = this.#aLeg
    const b = this.#winner?.leg
    if (!this.answered || !b || this.#recordHandedOver) return
    const codec = a.negotiated?.audio.codec ?? b.negotiated?.audio.codec
    if (!codec) return
    try {
      const fromA = sideQuality(
        a.quality,
        { quality: b.quality, browser: b.kind === 'webrtc' },
        codec
      )
      const fromB = sideQuality(
        b.quality,
        { quality: a.quality, browser: a.kind === 'webrtc' },
        codec
      )
      const sides =
        this.#callerSide === 'a'
          ? { caller: fromA, callee: fromB }
          : { caller: fromB, callee: fromA }
      for (const record of [this.record, ...this.#followers])
        this.#services.cdr.quality(record, sides)
    } catch (error) {
      this.#services.log('warn', 'could not measure the call quality', { err: error })
    }
  }

  /** Completes CDRs and drops them from the node's list of active legs (the crash sweep's). */
  async #closeRecords(records: CallRecord[], end: CdrEnd) {
    try {
      for (const record of records) await this.#services.close(record, end)
    } catch (error) {
      this.#services.log('error', 'could not complete the CDR', { err: error })
    }
  }

  /** Media operations of one call run one after another (a 183 and a 200 may arrive together). */
  #serialised<T>(work: () => Promise<T>): Promise<T | undefined> {
    const next = this.#queue.then(work).catch(async (error) => {
      // Work overtaken by the end of the call (a leg closed under it) is no failure.
      if (this.ended) return undefined
      // The database or Redis out of reach before the caller's 200 (the answer's write): 503 with
      // Retry-After, as a call refused at its start for the same reason (the caller may retry
      // here or elsewhere), BYE to the carrier, and the CDR's end kept until it can be written.
      const resource = resourceOf(error)
      const unavailable = resource === 'database' || resource === 'redis' ? resource : null
      if (unavailable && !this.answered) {
        this.#services.log('warn', `call handling found the ${unavailable} out of reach`, {
          err: error,
        })
        this.#services.outOfCapacity(unavailable)
        await this.#fail(503, 'no_capacity')
        return undefined
      }
      this.#services.log('error', 'call handling failed', { err: error })
      await this.#end('failed', 'system', error instanceof MediaNegotiationError ? 488 : 500)
      return undefined
    })
    this.#queue = next
    return next
  }
}
