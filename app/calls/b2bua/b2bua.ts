import { getHeapStatistics } from 'node:v8'
import { callLookups } from '#calls/b2bua/call_lookups'
import {
  SipUri,
  type SipStack,
  type IncomingInvite,
  type SipTransportProtocol,
  type SipCredential,
  snapshotOf,
  snapshotReachable,
  SystemClock,
  type SipClock,
  ENCRYPTED_TRANSPORTS,
  clientOf,
} from '#sip'
import type Company from '#accounts/models/company'
import type { DeviceRefusal } from '#calls/models/sip_device'
import { noteDevice, type DeviceNotes } from '#calls/b2bua/device_notes'
import type User from '#accounts/models/user'
import type CarrierManager from '#calls/carriers/carrier_manager'
import type RoutingService from '#calls/services/routing_service'
import type { CallGateRegistry, DurationCause } from '#calls/gates/call_gate'
import { type MediaEngine, type LegLossReason, type MediaLeg, sdpFacts } from '#media'
import type NumberService from '#calls/services/number_service'
import type { NumberOwner } from '#calls/services/number_service'
import CallRecord from '#calls/models/call_record'
import { DatabaseActiveCallLegs, type ActiveCallLegStore } from '#calls/b2bua/active_call_legs'
import type CdrService from '#calls/b2bua/cdr_service'
import type { CdrEnd } from '#calls/b2bua/cdr_service'
import { configuredRealm } from '#calls/signalling/registrar_settings'
import CallSession, {
  type CallSessionServices,
  type TransferPlan,
  type TransferRequest,
  type ConsultedRequest,
  type PersistedLeg,
} from '#calls/b2bua/call_session'
import { sdpOf, type CallingParty } from '#calls/b2bua/carrier_request'
import { causeOfStatus } from '#calls/b2bua/call_attempt'
import type { CallsConfig } from '#config/calls'
import type { RefusalReason } from '#calls/routing/route_resolver'
import { emergencyNumberOf } from '#calls/routing/dialled_number'
import { DateTime } from 'luxon'
import { toE164 } from '#core/e164'
import { resourceOf, type CapacityResource } from '#calls/b2bua/capacity_resources'
import { isDatabaseUnavailable } from '#core/database_unavailable'
import CarrierSources from '#calls/b2bua/carrier_sources'
import CallTargets, { type ShownCaller } from '#calls/b2bua/call_targets'
import { callingPartyOf } from '#calls/b2bua/calling_party'
import { sipSubjectParts } from '#calls/signalling/sip_subject'
import BusyLamps from '#calls/internal/busy_lamps'
import type { DisconnectCause } from '#calls/models/call_record'
import {
  carrierOfferMedia,
  legEncryption,
  phoneOfferMedia,
  type LegMedia,
} from '#calls/b2bua/media_security'
import InternalDirectory, {
  type ForwardRule,
  type InternalDestination,
} from '#calls/internal/internal_directory'
import type { ForwardCondition } from '#calls/models/call_forwarding'

export interface B2buaLogger {
  info(details: Record<string, unknown>, message: string): void
  warn(details: Record<string, unknown>, message: string): void
  error(details: Record<string, unknown>, message: string): void
}

export interface B2buaDependencies {
  stack: SipStack
  media: MediaEngine
  carriers: CarrierManager
  routing: RoutingService
  gates: CallGateRegistry
  numbers: NumberService
  cdr: CdrService
  config: CallsConfig
  logger: B2buaLogger
  /** Where answered carrier dialogs are kept for crash recovery; the database by default. */
  legs?: ActiveCallLegStore
  /** The calls' timers (ring limits, trying, maximum duration); the system clock by default. */
  clock?: SipClock
  /** Carriers the OPTIONS health check reports down; they are tried after the others. */
  isCarrierDown?: (name: string) => boolean
  /** Extensions, direct dial and the users' line settings; the database by default. */
  internal?: InternalDirectory
  /** What the devices page tells about a SIP phone; the database by default. */
  devices?: DeviceNotes
}

/** A running call as the live calls page shows it (no SDP, no media). */
export interface LiveCall {
  uuid: string
  session: CallSession
  record: CallRecord
}

/** SIP answers for routing refusals; the reason phrase tells the web phone what happened. */
const REFUSALS: Record<RefusalReason, [number, string]> = {
  invalid_number: [484, 'Invalid number'],
  no_route: [404, 'No route to this number'],
  no_active_carrier: [503, 'No carrier available'],
  all_carriers_objected: [403, 'No carrier you accepted serves this number'],
  eu_only_no_carrier: [403, 'No EU carrier serves this number (EU-only data residency)'],
}

const WEBSOCKET: ReadonlySet<SipTransportProtocol> = new Set(['ws', 'wss'])

/**
 * The back-to-back user agent: every INVITE that reaches the SIP stack ends here. Users (web
 * phone, own SIP phones) are authenticated by digest; emergency numbers are recognised before
 * anything else can refuse the call; then the call gates, the route and the carriers with
 * failover. INVITEs from a carrier to one of our numbers ring the assigned users' devices.
 */
export default class B2bua {
  readonly #deps: B2buaDependencies
  readonly #legs: ActiveCallLegStore
  readonly #calls = new Map<string, LiveCall>()
  readonly #services: CallSessionServices
  #ringTimeoutSeconds: number
  #draining = false
  #closing = false
  readonly #unwrittenEnds = new Map<
    string,
    { attempt: number; timer: NodeJS.Timeout; retry: () => Promise<void> }
  >()
  readonly #sources: CarrierSources
  readonly #targets: CallTargets
  readonly #internal: InternalDirectory
  /** Calls refused for capacity since start, per resource (the operations metrics read it). */
  readonly refusedForCapacity: Record<CapacityResource, number> = {
    rtp_ports: 0,
    webrtc_ports: 0,
    media_engine: 0,
    calls: 0,
    memory: 0,
    database: 0,
    redis: 0,
  }

  /** Busy-lamp subscriptions of desk phones (SUBSCRIBE, dialog event package). */
  readonly lamps: BusyLamps

  constructor(deps: B2buaDependencies) {
    this.#deps = deps
    this.#legs = deps.legs ?? new DatabaseActiveCallLegs()
    this.#internal = deps.internal ?? new InternalDirectory()
    this.#ringTimeoutSeconds = deps.config.ringTimeoutSeconds
    this.#services = {
      core: deps.stack.core,
      media: deps.media,
      clock: deps.clock ?? new SystemClock(),
      cdr: deps.cdr,
      tryingTimeoutMs: deps.config.tryingTimeoutMs,
      mediaTimeoutSeconds: 30,
      log: (level, message, details = {}) => deps.logger[level](details, message),
      answer: (record, legs) => this.#answer(record, legs),
      close: (record, end) => this.#close(record, end),
      persist: (record, legs) => this.#persist(record, legs),
      forget: (record) => this.#legs.forget(record.id),
      ended: (session) => this.#calls.delete(session.record.uuid),
      changed: (session) => this.lamps.sessionChanged(session),
      outOfCapacity: (resource) => this.#countCapacity(resource),
      retryAfterSeconds: deps.config.retryAfterSeconds,
      outboundRingLimitMs: deps.config.outboundRingLimitSeconds * 1000,
      durationWarningMs: deps.config.durationWarningSeconds * 1000,
      identityDomain: configuredRealm(),
      transfer: (request) => this.#transferPlan(request),
      consulted: (request) => this.#consulted(request),
    }
    this.lamps = new BusyLamps(deps.stack, this.#services.clock, (error) =>
      deps.logger.error({ err: error }, 'SUBSCRIBE failed')
    )
    this.#targets = new CallTargets(deps)
    this.#sources = new CarrierSources(deps.carriers, (entries) =>
      deps.stack.setTrustedSources(entries)
    )
  }

  /** Outbound calls ring this long at most (config outboundRingLimitSeconds; tests shorten it). */
  setOutboundRingLimit(seconds: number) {
    this.#services.outboundRingLimitMs = seconds * 1000
  }

  setMediaTimeout(seconds: number) {
    this.#services.mediaTimeoutSeconds = seconds
  }

  /** How long inbound calls ring before the caller gets 480 (config ringTimeoutSeconds; tests shorten it). */
  setRingTimeout(seconds: number) {
    this.#ringTimeoutSeconds = seconds
  }

  /** The B2BUA taking calls in this process, if any (listeners reach running calls through it). */
  static started: B2bua | undefined

  start() {
    this.#deps.stack.core.setInviteHandler((invite) => this.#receive(invite))
    // A media worker that died took legs with it, or a browser's connection failed: their calls
    // end, bridged or not
    this.#unwatchMedia ??= this.#deps.media.onLegLost?.((leg, reason) => this.#legLost(leg, reason))
    this.lamps.attach()
    // Carriers' signalling sources get their flood budget before their first call arrives.
    this.#sources
      .refresh()
      .catch((error) => this.#deps.logger.warn({ err: error }, 'carrier sources not resolved'))
    B2bua.started = this
  }

  #unwatchMedia: (() => void) | undefined

  #legLost(leg: MediaLeg, reason: LegLossReason) {
    for (const call of this.#calls.values()) {
      if (!call.session.holdsLeg(leg)) continue
      const why =
        reason === 'worker_ended' ? 'media worker ended' : "the browser's connection failed"
      this.#deps.logger.warn({ uuid: call.uuid, reason }, `media leg lost (${why}): call ends`)
      void call.session.mediaLost()
    }
  }

  get calls(): LiveCall[] {
    return [...this.#calls.values()]
  }

  get draining() {
    return this.#draining
  }

  /** Staff ended a call from the live calls page. */
  async end(uuid: string) {
    const call = this.#calls.get(uuid)
    if (!call) return false
    await call.session.hangUp('ended_by_staff')
    return true
  }

  /**
   * The fraud spend watch: a running call ends within `ms` (a cap is reached), with `cause` in its
   * CDR. False when the call does not run on this node.
   */
  endCallWithin(uuid: string, ms: number, cause: DurationCause) {
    const call = this.#calls.get(uuid)
    if (!call) return false
    call.session.endWithin(ms, cause)
    return true
  }

  /** Tests: the timers of calls started from now on run on `clock` (FakeClock). */
  useClock(clock: SipClock) {
    this.#services.clock = clock
  }

  /** A terminated company's calls end at once (BYE on both legs); emergency calls run on. */
  async endCompanyCalls(companyId: number): Promise<number> {
    const calls = this.calls.filter(
      (call) => call.record.companyId === companyId && !call.record.emergency
    )
    await Promise.all(calls.map((call) => call.session.hangUp('company_terminated')))
    return calls.length
  }

  /**
   * A web phone's SIP WebSocket closed (WebPhoneDisconnects): its calls end with BYE to the other
   * side. Closed by the page counts as the user hanging up; lost means the phone went away.
   */
  async endCallsOn(connectionId: string, how: 'closed' | 'lost') {
    const ending: Promise<void>[] = []
    for (const { session } of this.#calls.values()) {
      const side = session.sideOn(connectionId)
      if (!side || session.ended) continue
      if (how === 'lost') ending.push(session.hangUp('phone_disconnected'))
      else ending.push(session.hangUp(session.answered ? 'answered_normal' : 'cancelled', side))
    }
    await Promise.allSettled(ending)
    return ending.length
  }

  /**
   * Shutdown: new INVITEs get 503 with Retry-After; running calls may finish until the deadline,
   * then both legs get BYE and their CDRs are closed. Resolves with the number ended at the deadline.
   */
  async drain(seconds = this.#deps.config.drainSeconds): Promise<number> {
    this.#draining = true
    const deadline = Date.now() + seconds * 1000
    while (this.#calls.size > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    const remaining = this.calls
    if (remaining.length)
      this.#deps.logger.info(
        { calls: remaining.length },
        'drain time over: ending the running calls'
      )
    await Promise.allSettled(remaining.map((call) => call.session.hangUp('system_shutdown')))
    // The BYEs and CANCELs just sent get a short while for their answers; a peer that is gone
    // must not hold the shutdown for the 32 s of the transaction timers.
    const grace = Date.now() + this.#deps.config.shutdownGraceMs
    while (this.#deps.stack.transactionCount > 0 && Date.now() < grace) {
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    return remaining.length
  }

  /**
   * After a crash: the legs of the calls this node had answered (carrier, desk phones, browsers
   * behind a SIP front) get a BYE built from the persisted dialogs, and their CDRs are closed. Runs
   * once at start, before new calls are taken.
   */
  async recover() {
    return this.endCallsOfNode(this.#deps.config.nodeId, 'crash_recovery')
  }

  /**
   * Ends what a node left behind: BYE on each leg of the calls it had answered (built from the
   * persisted dialogs: the carrier and the users' phones and fronted browsers), their CDRs closed
   * with `cause`. At start for this node's own crash; for another node that has gone silent
   * (node_lost) by the call sweeper. Resolves with the number of calls.
   */
  async endCallsOfNode(nodeId: string, cause: 'crash_recovery' | 'node_lost') {
    const legs = await this.#legs.ofNode(nodeId)
    const calls = new Set<number>()
    for (const leg of legs) {
      try {
        this.#deps.stack.endDialog(leg.snapshot())
      } catch (error) {
        this.#deps.logger.warn({ err: error, party: leg.party }, 'could not send the recovery BYE')
      }
      if (!calls.has(leg.callRecordId)) {
        calls.add(leg.callRecordId)
        const record = await CallRecord.find(leg.callRecordId)
        if (record) {
          await this.#deps.cdr.end(record, { cause, sipStatus: null, hungUpBy: 'system' })
        }
      }
      await leg.remove()
    }
    // Attempts that never got answered before the crash: closed as failed.
    const open = await CallRecord.query().whereNull('ended_at').where('node_id', nodeId)
    for (const record of open) {
      await this.#deps.cdr.end(record, { cause, sipStatus: null, hungUpBy: 'system' })
    }
    // Its media in an engine the nodes share (rtpengine), instead of waiting for its timeout
    await this.#deps.media.endSessionsOf?.(nodeId).catch((error: unknown) => {
      this.#deps.logger.warn({ err: error, nodeId }, 'could not end the media sessions of the node')
    })
    return calls.size
  }

  /**
   * Is a call with this CDR running on this node, or its end still to be written (the sweeper
   * closes the CDRs of those that are neither)?
   */
  isLive(uuid: string) {
    return this.#calls.has(uuid) || this.#unwrittenEnds.has(uuid)
  }

  /**
   * A CDR closes with its call's own end: when the database is out of reach at that moment the end
   * (its time, cause, duration, the kept dialogs' removal) is kept and written once the database
   * is back, retried after 1, 2, 4 ... at most 30 s. Written late by the sweeper instead, it would
   * end when the database came back and bill the outage as talk time.
   */
  async #close(record: CallRecord, end: CdrEnd, at = DateTime.utc()): Promise<void> {
    try {
      await this.#deps.cdr.end(record, end, this.#legs.forgetting(record.id), at)
      this.#unwrittenEnds.delete(record.uuid)
    } catch (error) {
      if (!isDatabaseUnavailable(error) || this.#closing) throw error
      const attempt = (this.#unwrittenEnds.get(record.uuid)?.attempt ?? 0) + 1
      const delayMs = Math.min(30_000, 1000 * 2 ** (attempt - 1))
      if (attempt === 1)
        this.#deps.logger.warn(
          { err: error, callRecordId: record.id },
          'CDR end not written (database out of reach): kept, written when it is back'
        )
      const retry = () => this.#close(record, end, at)
      const timer = setTimeout(() => {
        void retry().catch((failure: unknown) =>
          this.#deps.logger.error(
            { err: failure, callRecordId: record.id },
            'could not complete the CDR'
          )
        )
      }, delayMs)
      timer.unref()
      this.#unwrittenEnds.set(record.uuid, { attempt, timer, retry })
    }
  }

  /**
   * On stop: the kept CDR ends get one more try each. Those the database still refuses are left
   * open; the call sweeper (of this node after its restart, or of another) closes them as lost.
   */
  async writeUnwrittenEnds(): Promise<number> {
    this.#closing = true
    const kept = [...this.#unwrittenEnds.values()]
    for (const entry of kept) clearTimeout(entry.timer)
    const results = await Promise.allSettled(kept.map((entry) => entry.retry()))
    const lost = results.filter((result) => result.status === 'rejected').length
    if (lost)
      this.#deps.logger.error(
        { calls: lost },
        'CDR ends not written at stop (database out of reach): the sweeper closes them as lost'
      )
    this.#unwrittenEnds.clear()
    return lost
  }

  #receive(invite: IncomingInvite) {
    // A draining node still takes 110/112: the caller may have no other way to reach help.
    const uri = invite.request.uri
    const dialled = uri instanceof SipUri ? uri.userText() : ''
    if (dialled === null) {
      // The escapes of the user part are no UTF-8 (RFC 3261 19.1.2): not a number anyone can call.
      invite.reject(400, { reason: 'Bad Request-URI user part' })
      return
    }
    const emergency = emergencyNumberOf(dialled) !== null
    if (this.#draining && !emergency) {
      this.#reject(invite, 503, 'Shutting down')
      return
    }
    const attempt: CallAttemptState = { dialled }
    this.#classify(invite, attempt).catch((error) => this.#failed(invite, attempt, error))
  }

  /**
   * Whatever went wrong, the caller gets a final answer and the CDR is closed: 503 with
   * Retry-After when a resource ran out (ports, the database), 500 for anything else.
   */
  async #failed(invite: IncomingInvite, attempt: CallAttemptState, error: unknown) {
    const resource = resourceOf(error)
    if (resource) this.#countCapacity(resource)
    else this.#deps.logger.error({ err: error }, 'INVITE handling failed')
    const status = resource ? 503 : 500
    const record = attempt.record
    const live = record ? this.#calls.get(record.uuid) : undefined
    try {
      if (live) {
        await live.session.abort(status, resource ? 'no_capacity' : 'failed')
        return
      }
      this.#reject(invite, status, resource ? 'Out of capacity' : undefined)
      if (record)
        await this.#deps.cdr.end(record, {
          cause: resource ? 'no_capacity' : 'failed',
          sipStatus: status,
          hungUpBy: 'system',
        })
    } catch (closing) {
      this.#deps.logger.error({ err: closing }, 'could not close the CDR of a failed call')
    }
  }

  #reject(invite: IncomingInvite, status: number, reason?: string) {
    const headers: Array<[string, string]> =
      status === 503 ? [['Retry-After', String(this.#deps.config.retryAfterSeconds)]] : []
    invite.reject(status, { headers, reason })
  }

  #countCapacity(resource: CapacityResource) {
    this.refusedForCapacity[resource] += 1
    this.#deps.logger.warn({ resource, calls: this.#calls.size }, 'call refused: out of capacity')
  }

  /** A resource this node is out of for a new (non-emergency) call, or null. */
  #overloaded(): CapacityResource | null {
    if (this.#calls.size >= this.#deps.config.maxConcurrentCalls) return 'calls'
    const heap = getHeapStatistics()
    if (heap.used_heap_size > (heap.heap_size_limit * this.#deps.config.maxHeapPercent) / 100)
      return 'memory'
    return null
  }

  async #classify(invite: IncomingInvite, attempt: CallAttemptState) {
    const source = callerSource(invite)
    const request = invite.request
    const offer = sdpOf(invite.offer)
    if (!offer) {
      // Delayed offer (an INVITE without SDP) is not supported yet.
      invite.reject(488, { reason: 'An SDP offer is required' })
      return
    }
    const authorised =
      request.headers.has('authorization') || request.headers.has('proxy-authorization')
    if (!authorised && !WEBSOCKET.has(source.protocol)) {
      const carrier = await this.#carrierAt(source.host)
      const number = carrier ? await this.#ourNumber(attempt.dialled) : null
      if (carrier && number) return this.#inbound(invite, carrier, number, offer, attempt)
    }
    // An emergency call does not wait on Redis: with the failure counters or the nonce counts out
    // of reach its digest alone decides (no lock known, no replay check); other calls get 503.
    const outcome = await this.#deps.stack.authenticate(request, source, {
      storesOptional: emergencyNumberOf(attempt.dialled) !== null,
      onStoreUnavailable: (error) =>
        this.#deps.logger.warn(
          { err: error },
          'emergency call authenticated without the shared counters (unreachable)'
        ),
    })
    if (outcome.kind === 'challenge') {
      invite.reject(401, {
        headers: outcome.challenges.map((challenge) => ['WWW-Authenticate', challenge.toString()]),
      })
      return
    }
    return this.#outbound(invite, outcome.credential, offer, attempt)
  }

  /* ------------------------------------------------------------------ outbound */

  /** Informational (the devices page): never awaited, never fails a call. */
  #noteDevice(note: (devices: DeviceNotes) => Promise<void>) {
    noteDevice(this.#deps.devices, this.#deps.logger, note)
  }

  /**
   * "Encrypted only" (issue 19): a phone of such a company calls over TLS (else 403) and offers
   * SRTP (else 488), each refusal with its reason, which its devices page shows too. 110 and 112
   * are never refused for it (§ 164 TKG): they go through and are logged as plain (the CDR's
   * encryption flags say which part was).
   */
  #encryptedEnough(
    invite: IncomingInvite,
    credential: SipCredential,
    company: Company,
    emergency: boolean,
    media: LegMedia | null
  ): boolean {
    if (!credential.encryptedTransportOnly) return true
    const protocol = callerSource(invite).protocol
    const plain: DeviceRefusal | null = !ENCRYPTED_TRANSPORTS.has(protocol)
      ? 'plain_call'
      : media === 'rtp'
        ? 'plain_media'
        : null
    if (plain === null) return true
    if (emergency) {
      this.#deps.logger.warn(
        { companyId: company.id, protocol, plain },
        'emergency call in the clear from an "encrypted only" company: put through'
      )
      return true
    }
    this.#noteDevice((devices) => devices.refused(credential, plain))
    if (plain === 'plain_call') invite.reject(403, { reason: 'Encryption required: call over TLS' })
    else invite.reject(488, { reason: 'Encryption required: offer SRTP (RTP/SAVP)' })
    return false
  }

  async #outbound(
    invite: IncomingInvite,
    credential: SipCredential,
    offer: string,
    attempt: CallAttemptState
  ) {
    const owner = sipSubjectParts(credential.subject)
    const user = owner ? await callLookups.user(owner.userId) : null
    const company = user?.companyId ? await callLookups.company(user.companyId) : null
    if (!owner || !user || !company || user.companyId !== owner.companyId) {
      invite.reject(403)
      return
    }
    const dialled = attempt.dialled
    const facts = sdpFacts(offer)
    if (facts.problem) {
      invite.reject(488, { reason: facts.problem })
      return
    }
    const protocol = callerSource(invite).protocol
    const help = emergencyNumberOf(dialled) !== null
    // 110/112 take SRTP even over plain transport (§ 164 TKG), see phoneOfferMedia
    const security = phoneOfferMedia(protocol, facts, help)
    const offered = 'media' in security ? security.media : null
    if (!this.#encryptedEnough(invite, credential, company, help, offered)) return
    if ('refuse' in security) {
      invite.reject(488, { reason: security.refuse })
      return
    }
    const aMedia = security.media
    this.#noteDevice((devices) => devices.called(credential.subject, aMedia !== 'rtp'))

    if (dialled === this.#deps.config.echoNumber) {
      const record = await this.#record(company, user, 'echo_test', false, null, dialled, false)
      attempt.record = record
      const overloaded = this.#overloaded()
      if (overloaded) return this.#outOfCapacity(invite, record, overloaded)
      const session = this.#session(invite, await this.#legFor(aMedia), record, aMedia)
      await session.answerEcho()
      return
    }

    // An extension or a number of the company stays inside: no gate, no carrier, no cost.
    // 110/112 and service codes are never internal (InternalDirectory.resolve).
    const internal = await this.#internal.resolve(company, dialled)
    if (internal) return this.#internalCall(invite, user, company, internal, aMedia, attempt)

    // Emergency numbers are decided before any gate: routing recognises them on the raw string.
    const route = await this.#deps.routing.resolve(company, dialled)
    const emergency = route.emergency
    const party = await callingPartyOf(this.#deps.numbers, invite, user, company, emergency)
    const callee =
      route.destination === null
        ? dialled.slice(0, 32)
        : emergency
          ? route.destination
          : `+${route.destination}`
    const record = await this.#record(
      company,
      user,
      'outbound',
      emergency,
      party.number,
      callee,
      party.withheld
    )
    attempt.record = record
    // Every refusal is a CDR too (fraud counts refused attempts), closed at once.
    const refuse = async (status: number, reason: string) => {
      invite.reject(status, { reason })
      await this.#deps.cdr.end(record, { cause: 'refused', sipStatus: status, hungUpBy: 'system' })
    }
    if (!emergency && user.disabledAt) return refuse(403, 'User disabled')
    if (route.outcome === 'refused') return refuse(...REFUSALS[route.reason])
    let maxDurationSeconds: number | undefined
    let durationCause: DurationCause | undefined
    if (!emergency) {
      const decision = await this.#deps.gates.check({
        company,
        user,
        destination: callee,
        carrierNames: route.carriers,
        callUuid: record.uuid,
        deviceId: owner.deviceId ?? null,
        sourceAddress: callerSource(invite).host,
        kind: 'direct',
        pricePerMinuteCents: null,
      })
      if (!decision.allow) return refuse(decision.status ?? 403, decision.phrase ?? decision.reason)
      maxDurationSeconds = decision.maxDurationSeconds
      durationCause = decision.durationCause
      // 110/112 go through while any port is left; everything else stops at the node's limits.
      const overloaded = this.#overloaded()
      if (overloaded) return this.#outOfCapacity(invite, record, overloaded)
    }

    const session = this.#session(invite, await this.#legFor(aMedia), record, aMedia)
    if (maxDurationSeconds !== undefined) session.limitDuration(maxDurationSeconds, durationCause)
    await session.connectSequential(
      await this.#targets.carriers(route.carriers, route.destination, party, record)
    )
  }

  /* ------------------------------------------------------------------ inbound */

  async #inbound(
    invite: IncomingInvite,
    carrierName: string,
    number: NumberOwner,
    offer: string,
    attempt: CallAttemptState
  ) {
    const company = number.companyId ? await callLookups.company(number.companyId) : null
    if (!company || company.status !== 'active') {
      invite.reject(480)
      return
    }
    // The assigned user, the colleague reached by direct dial, or everyone of the company.
    const users = await this.#internal.usersOfNumber(number)
    const from = invite.request.from.uri
    const callerUser = from instanceof SipUri ? from.user : undefined
    const anonymous =
      !callerUser ||
      callerUser.toLowerCase() === 'anonymous' ||
      (invite.request.headers.get('privacy') ?? '').toLowerCase().includes('id')
    const callerNumber = anonymous ? null : this.#e164(callerUser!)
    const record = await this.#record(
      company,
      users[0] ?? null,
      'inbound',
      false,
      callerNumber,
      number.number,
      anonymous,
      carrierName
    )
    attempt.record = record
    // Refusals before anything rings are CDRs too, closed at once.
    const refuse = async (status: number, reason: string, cause: DisconnectCause) => {
      invite.reject(status, { reason })
      await this.#deps.cdr.end(record, { cause, sipStatus: status, hungUpBy: 'system' })
    }
    const gate = await this.#deps.gates.checkInbound({
      company,
      number: number.number,
      callUuid: record.uuid,
    })
    if (!gate.allow) return refuse(gate.status ?? 403, gate.phrase ?? gate.reason, 'rejected')
    const facts = sdpFacts(offer)
    if (facts.problem) return refuse(488, facts.problem, 'failed')
    const profile = (await this.#deps.carriers.use(carrierName)).profile
    const protocol = callerSource(invite).protocol
    const decision = carrierOfferMedia(profile.srtp, protocol, facts)
    if ('refuse' in decision) return refuse(488, decision.refuse, 'failed')
    // Only when every user the number rings refuses anonymous calls; otherwise the others ring.
    const willing = anonymous ? users.filter((user) => !user.rejectAnonymous) : users
    if (users.length && !willing.length) return refuse(433, 'Anonymity Disallowed', 'rejected')
    const delivery: Delivery = {
      invite,
      record,
      company,
      shown: { number: callerNumber },
      aIsCarrier: true,
      aMedia: decision.media,
      calledNumber: number.number,
      originalCaller: callerNumber,
      priorDiversions: diversionsOf(invite),
    }
    // The number's own rules come around its users' handling: 'always' before anything rings,
    // busy, no answer or unreachable once they did not take the call (nor their own forwarding).
    // A number of one user follows that user's forwarding; a number that rings everyone does not.
    const rules = await this.#internal.numberForwardingOf(number.id)
    const onBehalfOf = await this.#numberCaller(company, number, rules)
    const visited = new Set<number>()
    const forward = (condition: ForwardCondition) =>
      this.#forward(delivery, onBehalfOf, rules.get(condition), visited)
    if (await forward('always')) return
    const ringSeconds = rules.get('no_answer')?.ringSeconds
    const unanswered =
      willing.length === 1
        ? await this.#ringUser(delivery, willing[0], visited, ringSeconds)
        : await this.#ringAll(delivery, willing, ringSeconds)
    if (!unanswered) return
    if (unanswered.condition === 'busy' && (await forward('busy'))) return
    if (
      unanswered.condition === 'unreachable' &&
      ((await forward('unreachable')) || (await forward('no_answer')))
    )
      return
    if (unanswered.condition === 'no_answer' && (await forward('no_answer'))) return
    return this.#finish(delivery, unanswered)
  }

  /**
   * Whose outbound call a number's external forwarding is (gates, limits, the CDR): the user the
   * number is assigned to, else the admin who set the rules while they are an active member.
   */
  async #numberCaller(
    company: Company,
    number: NumberOwner,
    rules: Map<ForwardCondition, ForwardRule>
  ): Promise<User | null> {
    if (!rules.size) return null
    if (number.userId !== null) {
      const holder = await this.#internal.colleague(company.id, number.userId)
      if (holder) return holder
    }
    for (const rule of rules.values()) {
      if (rule.setByUserId === null) continue
      const admin = await this.#internal.colleague(company.id, rule.setByUserId)
      if (admin) return admin
    }
    return null
  }

  /* ------------------------------------------------------------------ internal */

  /**
   * A user called a colleague (extension, or a number of the company): the colleague's registered
   * devices ring, exactly as for an inbound carrier call, but no gate, route or carrier is asked:
   * the call never leaves FluffyCall and billing rates direction 'internal' as free.
   */
  async #internalCall(
    invite: IncomingInvite,
    caller: User,
    company: Company,
    destination: InternalDestination,
    aMedia: LegMedia,
    attempt: CallAttemptState
  ) {
    const line = await this.#internal.settingsOf(caller.id)
    const shown: ShownCaller = {
      number: line.extension ?? (await this.#deps.numbers.defaultCallerId(caller)),
      name: caller.fullName ?? undefined,
    }
    const others = destination.users.filter((colleague) => colleague.id !== caller.id)
    const record = await this.#deps.cdr.start({
      companyId: company.id,
      userId: caller.id,
      calleeUserId: others.length === 1 ? others[0].id : null,
      direction: 'internal',
      emergency: false,
      callerNumber: shown.number,
      calleeNumber: destination.calleeNumber,
      callerWithheld: false,
      region: company.region,
      nodeId: this.#deps.config.nodeId,
    })
    attempt.record = record
    const refuse = async (status: number, reason: string, cause: DisconnectCause) => {
      invite.reject(status, { reason })
      await this.#deps.cdr.end(record, { cause, sipStatus: status, hungUpBy: 'system' })
    }
    if (caller.disabledAt) return refuse(403, 'User disabled', 'refused')
    if (company.status !== 'active') return refuse(403, 'Account not active', 'refused')
    if (!destination.users.length)
      return refuse(
        404,
        destination.via === 'extension' ? 'No such extension' : 'Nobody to reach',
        'unreachable'
      )
    if (!others.length) return refuse(486, 'Your own line', 'busy')
    const delivery: Delivery = {
      invite,
      record,
      company,
      shown,
      aIsCarrier: false,
      aMedia,
      calledNumber: null,
      originalCaller: null,
      priorDiversions: 0,
    }
    // A forwarding back to the caller counts as a loop: it is not followed.
    const unanswered =
      others.length === 1
        ? await this.#ringUser(delivery, others[0], new Set([caller.id]))
        : await this.#ringAll(delivery, others)
    return this.#finish(delivery, unanswered)
  }

  /* ------------------------------------------------------------------ delivery and forwarding */

  /**
   * Rings every reachable device of several users at once (a number that rings the whole
   * company), for `ringSeconds` (a number's no-answer rule) or the ring timeout. Unanswered: what
   * the caller would get, for the number's forwarding to take on first (#finish gives it).
   */
  async #ringAll(
    delivery: Delivery,
    users: User[],
    ringSeconds?: number
  ): Promise<Unanswered | null> {
    const { reachable, reason } = await this.#reachable(users)
    if (users.length && !reachable.length)
      return { condition: 'busy', status: 486, reason, cause: 'busy' }
    const session = await this.#sessionOf(delivery)
    if (!session) return null
    const targets = await this.#targets.phones(reachable, delivery.shown, {
      encryptedOnly: delivery.company.encryptedOnly,
    })
    const outcome = await session.ring(targets, (ringSeconds ?? this.#ringTimeoutSeconds) * 1000)
    if (outcome.kind !== 'unanswered') return null
    return { condition: conditionOf(outcome.status, targets.length), ...outcome }
  }

  /**
   * Rings one user's devices and follows their forwarding: always (before anything rings), when
   * busy (do not disturb, on a call without call waiting, or every device busy or declining),
   * when no device is registered, and after the rule's seconds without an answer. A forwarding
   * to a user the call already reached, or beyond MAX_FORWARD_HOPS, is not followed (a loop).
   * Unanswered and not forwarded: returned for the number's rules to take on first (#finish
   * gives the caller the status); `ringSeconds` is the number's no-answer time.
   */
  async #ringUser(
    delivery: Delivery,
    user: User,
    visited: Set<number>,
    ringSeconds?: number
  ): Promise<Unanswered | null> {
    visited.add(user.id)
    const rules = await this.#internal.forwardingOf(user.id)
    const forward = (condition: ForwardCondition) =>
      this.#forward(delivery, user, rules.get(condition), visited)
    if (await forward('always')) return null
    const settings = await this.#internal.settingsOf(user.id)
    if (settings.doNotDisturb || (!settings.callWaiting && this.isOnCall(user.id))) {
      if (await forward('busy')) return null
      const reason = settings.doNotDisturb ? 'Do not disturb' : 'Busy Here'
      return { condition: 'busy', status: 486, reason, cause: 'busy' }
    }
    const targets = await this.#targets.phones([user], delivery.shown, {
      encryptedOnly: delivery.company.encryptedOnly,
    })
    if (!targets.length && ((await forward('unreachable')) || (await forward('no_answer'))))
      return null
    const session = await this.#sessionOf(delivery)
    if (!session) return null
    // The user's own no-answer time first, else the number's (the caller of #ringUser knows it).
    const seconds = rules.get('no_answer')?.ringSeconds ?? ringSeconds
    const outcome = await session.ring(targets, (seconds ?? this.#ringTimeoutSeconds) * 1000)
    if (outcome.kind !== 'unanswered') return null
    if ((outcome.status === 486 || outcome.status === 603) && (await forward('busy'))) return null
    if (outcome.status === 480 && targets.length && (await forward('no_answer'))) return null
    return { condition: conditionOf(outcome.status, targets.length), ...outcome }
  }

  /** A call nobody took and no forwarding took on: the caller gets the status. */
  async #finish(delivery: Delivery, unanswered: Unanswered | null) {
    if (!unanswered) return
    const { status, reason, cause } = unanswered
    await this.#undelivered(delivery, status, reason, cause ?? causeOfStatus(status))
  }

  /** Follows one forwarding rule; false when there is none or following it would loop. */
  async #forward(
    delivery: Delivery,
    user: User | null,
    rule: ForwardRule | undefined,
    visited: Set<number>
  ): Promise<boolean> {
    if (!rule) return false
    // The caller hung up while the first devices rang: there is nothing left to forward.
    if (delivery.session?.ended) return true
    const loop = (why: string) => {
      this.#deps.logger.warn(
        { callUuid: delivery.record.uuid, condition: rule.condition, why },
        'call forwarding not followed: loop'
      )
      return false
    }
    if (visited.size > MAX_FORWARD_HOPS || delivery.priorDiversions >= MAX_FORWARD_HOPS)
      return loop('too many forwardings')
    if (rule.target.kind === 'colleague') {
      if (visited.has(rule.target.userId)) return loop('a colleague the call reached already')
      const colleague = await this.#internal.colleague(delivery.company.id, rule.target.userId)
      if (!colleague) return false
      const line = await this.#internal.settingsOf(colleague.id)
      const shownAs = line.extension ?? (await this.#deps.numbers.defaultCallerId(colleague))
      await this.#deps.cdr.forwarded(delivery.record, shownAs, rule.condition)
      await this.#finish(delivery, await this.#ringUser(delivery, colleague, visited))
      return true
    }
    const number = rule.target.number
    // One of the company's own numbers stays inside: its user rings (and their forwarding counts).
    const inside = await this.#internal.resolve(delivery.company, number)
    if (inside) {
      const next = inside.users
      if (next.length === 1 && visited.has(next[0].id))
        return loop('a number of a colleague the call reached already')
      await this.#deps.cdr.forwarded(delivery.record, number, rule.condition)
      const unanswered =
        next.length === 1
          ? await this.#ringUser(delivery, next[0], visited)
          : await this.#ringAll(delivery, next)
      await this.#finish(delivery, unanswered)
      return true
    }
    // A shared number whose rules' admin has gone: nobody to place the outbound call for.
    if (!user) {
      this.#deps.logger.warn(
        { callUuid: delivery.record.uuid, condition: rule.condition },
        'call forwarding not followed: nobody to place the outbound call for'
      )
      return false
    }
    return this.#forwardOut(delivery, user, rule, number)
  }

  /**
   * A forwarding to a number outside: an outbound call of the company, placed for `user` with its
   * own CDR (rated and billed like any call, linked to the forwarded one), through every call
   * gate with kind 'forward' and the route's carriers. The carrier sees the company's number (or
   * the original caller where its profile allows it) and Diversion or History-Info.
   */
  async #forwardOut(delivery: Delivery, user: User, rule: ForwardRule, number: string) {
    const { company, invite } = delivery
    const route = await this.#deps.routing.resolve(company, number)
    // Never forwarded to an emergency number (the settings refuse it too).
    if (route.emergency) return false
    await this.#deps.cdr.forwarded(delivery.record, number, rule.condition)
    const presented = delivery.calledNumber ?? (await this.#deps.numbers.defaultCallerId(user))
    if (route.outcome === 'refused') {
      await this.#undelivered(delivery, ...REFUSALS[route.reason], 'refused')
      return true
    }
    const { out, decision } = await this.#onBehalfOf(company, user, {
      callee: `+${route.destination}`,
      presented,
      carriers: route.carriers,
      continues: delivery.record,
      kind: 'forward',
      sourceAddress: callerSource(invite).host,
    })
    if (!decision.allow) {
      const status = decision.status ?? 403
      await this.#undelivered(delivery, status, decision.phrase ?? decision.reason, 'refused')
      return true
    }
    const session = await this.#sessionOf(delivery)
    if (!session || session.ended) {
      await this.#deps.cdr.end(out, {
        cause: session ? 'cancelled' : 'no_capacity',
        sipStatus: session ? 487 : 503,
        hungUpBy: session ? 'caller' : 'system',
      })
      return true
    }
    session.follow(out)
    if (decision.maxDurationSeconds !== undefined)
      session.limitDuration(decision.maxDurationSeconds, decision.durationCause)
    const party: CallingParty = {
      number: presented,
      withheld: false,
      emergency: false,
      location: null,
      forwarding: {
        diverter: presented ?? number,
        reason: rule.condition,
        originalCaller: delivery.originalCaller,
      },
    }
    await session.connectSequential(
      await this.#targets.carriers(route.carriers, route.destination!, party, out)
    )
    return true
  }

  /**
   * Where a user's phone may transfer its party (REFER): a colleague by extension or company number
   * (their devices ring; busy and do not disturb refuse it), or a number outside as the company's
   * outbound call for the transferring user, through every call gate (kind 'transfer'), with its
   * own CDR. Emergency numbers are never a transfer target.
   */
  async #transferPlan(request: TransferRequest): Promise<TransferPlan> {
    const { session, dialled } = request
    const record = session.record
    const refused = (status: number, reason: string): TransferPlan => ({
      kind: 'refused',
      status,
      reason,
    })
    const company = record.companyId ? await callLookups.company(record.companyId) : null
    const user = request.transferorUserId ? await callLookups.user(request.transferorUserId) : null
    if (!company || !user || user.companyId !== company.id || company.status !== 'active')
      return refused(403, 'Transfer not allowed')
    if (!dialled || emergencyNumberOf(dialled)) return refused(403, 'Not a transfer target')
    // The new party sees who it will talk to: the caller, or the callee when the caller transfers.
    const shown: ShownCaller = {
      number:
        request.side === 'a'
          ? record.calleeNumber
          : record.callerWithheld
            ? null
            : record.callerNumber,
    }
    const inside = await this.#internal.resolve(company, dialled)
    if (inside) {
      const colleagues = inside.users.filter((colleague) => colleague.id !== user.id)
      if (!colleagues.length) return refused(404, 'No such extension')
      const { reachable, reason } = await this.#reachable(colleagues)
      if (!reachable.length) return refused(486, reason)
      return {
        kind: 'targets',
        targets: await this.#targets.phones(reachable, shown, {
          encryptedOnly: company.encryptedOnly,
        }),
        parallel: true,
        ringMs: this.#ringTimeoutSeconds * 1000,
        shownAs: inside.calleeNumber,
      }
    }
    const route = await this.#deps.routing.resolve(company, dialled)
    if (route.emergency) return refused(403, 'Not a transfer target')
    if (route.outcome === 'refused') return refused(...REFUSALS[route.reason])
    const presented = await this.#deps.numbers.defaultCallerId(user)
    const { out, decision } = await this.#onBehalfOf(company, user, {
      callee: `+${route.destination}`,
      presented,
      carriers: route.carriers,
      continues: record,
      kind: 'transfer',
      sourceAddress: request.sourceAddress,
    })
    if (!decision.allow) return refused(decision.status ?? 403, decision.phrase ?? decision.reason)
    const party: CallingParty = {
      number: presented,
      withheld: false,
      emergency: false,
      location: null,
    }
    return {
      kind: 'targets',
      targets: await this.#targets.carriers(route.carriers, route.destination!, party, out),
      parallel: false,
      ringMs: this.#deps.config.outboundRingLimitSeconds * 1000,
      shownAs: out.calleeNumber ?? `+${route.destination}`,
      follower: out,
      maxDurationSeconds: decision.maxDurationSeconds,
      durationCause: decision.durationCause,
    }
  }

  /**
   * The call an attended transfer's Replaces names: one the transferor placed (internal or
   * outbound) in the same company, running on this node. Another user's call is never joined.
   */
  #consulted(request: ConsultedRequest): CallSession | undefined {
    const { session, replaces, transferorUserId } = request
    if (transferorUserId === null) return undefined
    for (const { session: candidate, record } of this.#calls.values()) {
      if (candidate === session || candidate.ended || !candidate.callerDialogIs(replaces)) continue
      const own =
        candidate.callingUserId === transferorUserId &&
        record.companyId === session.record.companyId &&
        !record.emergency
      return own ? candidate : undefined
    }
    return undefined
  }

  /**
   * The outbound call a forwarding or transfer places for `user` of `company`: its own CDR, linked
   * to the call it continues, and the call gates' decision (a refusal closes that CDR at once).
   */
  async #onBehalfOf(
    company: Company,
    user: User,
    call: {
      callee: string
      presented: string | null
      carriers: string[]
      continues: CallRecord
      kind: 'forward' | 'transfer'
      sourceAddress: string
    }
  ) {
    const out = await this.#deps.cdr.start({
      companyId: company.id,
      userId: user.id,
      direction: 'outbound',
      emergency: false,
      callerNumber: call.presented,
      calleeNumber: call.callee,
      callerWithheld: false,
      region: company.region,
      nodeId: this.#deps.config.nodeId,
      forwardedFromUuid: call.continues.uuid,
    })
    const decision = await this.#deps.gates.check({
      company,
      user,
      destination: call.callee,
      carrierNames: call.carriers,
      callUuid: out.uuid,
      deviceId: null,
      sourceAddress: call.sourceAddress,
      kind: call.kind,
      pricePerMinuteCents: null,
    })
    if (!decision.allow)
      await this.#deps.cdr.end(out, {
        cause: 'refused',
        sipStatus: decision.status ?? 403,
        hungUpBy: 'system',
      })
    return { out, decision }
  }

  /** The call's session, made when something first rings (the node's limits are checked first). */
  async #sessionOf(delivery: Delivery): Promise<CallSession | null> {
    if (delivery.session) return delivery.session
    const overloaded = this.#overloaded()
    if (overloaded) {
      await this.#outOfCapacity(delivery.invite, delivery.record, overloaded)
      return null
    }
    // A carrier's media comes from where it signals (no latching); a phone's is latched (NAT)
    const aLeg = delivery.aIsCarrier
      ? await this.#deps.media.createRtpLeg({
          latching: false,
          srtp: delivery.aMedia === 'srtp',
        })
      : await this.#legFor(delivery.aMedia)
    delivery.session = this.#session(
      delivery.invite,
      aLeg,
      delivery.record,
      delivery.aMedia,
      delivery.aIsCarrier
    )
    return delivery.session
  }

  /** A call nobody took: refused at once, or ended through its session once something rang. */
  async #undelivered(
    delivery: Delivery,
    status: number,
    reason: string | undefined,
    cause: DisconnectCause
  ) {
    const session = delivery.session
    if (session) {
      if (!session.ended) await session.abort(status, cause, reason)
      return
    }
    delivery.invite.reject(status, { reason })
    await this.#deps.cdr.end(delivery.record, { cause, sipStatus: status, hungUpBy: 'system' })
  }

  /**
   * The users a call may ring: not those on do not disturb, nor those already on a call who
   * turned call waiting off. The reason phrase of the 486 when nobody is left.
   */
  async #reachable(users: User[]) {
    const reachable: User[] = []
    let reason = 'Busy Here'
    for (const user of users) {
      const settings = await this.#internal.settingsOf(user.id)
      if (settings.doNotDisturb) {
        reason = 'Do not disturb'
        continue
      }
      if (!settings.callWaiting && this.isOnCall(user.id)) continue
      reachable.push(user)
    }
    return { reachable, reason }
  }

  /**
   * Is the user in a call on this node: calling out (from dialling on) or having answered one.
   * Other nodes' calls are not seen (call waiting is per node until presence is shared).
   */
  isOnCall(userId: number) {
    for (const { session } of this.#calls.values()) {
      if (session.ended) continue
      if (session.callingUserId === userId) return true
      if (session.answeredUserId === userId) return true
    }
    return false
  }

  /** What the user is doing in this node's calls, for presence: talking or calling, ringing, or nothing. */
  callStateOf(userId: number): 'on_call' | 'ringing' | null {
    let ringing = false
    for (const { session } of this.#calls.values()) {
      if (session.ended) continue
      if (session.callingUserId === userId) return 'on_call'
      if (session.answeredUserId === userId) return 'on_call'
      if (session.ringingUserIds.includes(userId)) ringing = true
    }
    return ringing ? 'ringing' : null
  }

  /* ------------------------------------------------------------------ helpers */

  async #outOfCapacity(invite: IncomingInvite, record: CallRecord, resource: CapacityResource) {
    this.#countCapacity(resource)
    this.#reject(invite, 503, 'Out of capacity')
    await this.#deps.cdr.end(record, { cause: 'no_capacity', sipStatus: 503, hungUpBy: 'system' })
  }

  #session(
    invite: IncomingInvite,
    aLeg: MediaLeg,
    record: CallRecord,
    aMedia: LegMedia,
    aIsCarrier = false
  ) {
    // Saved with the record's next write (answer or end), not a write of its own
    this.#deps.cdr.encryption(
      record,
      'caller',
      legEncryption(callerSource(invite).protocol, aMedia)
    )
    const session = new CallSession(this.#services, invite, aLeg, record, { aIsCarrier })
    this.#calls.set(record.uuid, { uuid: record.uuid, session, record })
    return session
  }

  #legFor(media: LegMedia): Promise<MediaLeg> {
    // Registered phones sit behind NAT: latch onto their signalled IP's actual source port.
    return media === 'webrtc'
      ? this.#deps.media.createWebRtcLeg()
      : this.#deps.media.createRtpLeg({ latching: true, srtp: media === 'srtp' })
  }

  #record(
    company: Company,
    user: User | null,
    direction: 'outbound' | 'inbound' | 'echo_test',
    emergency: boolean,
    callerNumber: string | null,
    calleeNumber: string | null,
    withheld: boolean,
    carrierName?: string
  ) {
    return this.#deps.cdr
      .start({
        companyId: company.id,
        userId: user?.id ?? null,
        direction,
        emergency,
        callerNumber,
        calleeNumber,
        callerWithheld: withheld,
        region: company.region,
        nodeId: this.#deps.config.nodeId,
      })
      .then(async (record) => {
        if (carrierName) await this.#deps.cdr.carrier(record, carrierName)
        return record
      })
  }

  /**
   * The call's dialogs, stored in one statement so that crash recovery can end them
   * (`SipStack.endDialog`): the carrier's and the users' phones. A browser connected to this node
   * is left out: only its WebSocket leads to it, which dies with the process (and the browser
   * notices that itself); one behind a SIP front is kept and reached through the front.
   */
  async #persist(record: CallRecord, legs: PersistedLeg[]) {
    const reachable = legs.filter(({ dialog }) => snapshotReachable(dialog))
    await this.#legs.keep(record.id, this.#deps.config.nodeId, keptLegs(reachable))
    this.#follow(record, reachable)
  }

  /** The answer of the call's CDR and its dialogs kept (as `#persist`), in one write (issue 17). */
  async #answer(record: CallRecord, legs: PersistedLeg[]) {
    const reachable = legs.filter(({ dialog }) => snapshotReachable(dialog))
    const keeping = this.#legs.keeping(record.id, this.#deps.config.nodeId, keptLegs(reachable))
    await this.#deps.cdr.answered(record, keeping ?? undefined)
    this.#follow(record, reachable)
  }

  /**
   * Later requests in the kept dialogs (hold, transfer, session refresh) move their CSeq on; the
   * kept row follows, so a recovered BYE is not refused as out of order.
   */
  #follow(record: CallRecord, reachable: PersistedLeg[]) {
    for (const { dialog } of reachable)
      dialog.onLocalSequence = (sequence) => {
        this.#legs
          .advance(record.id, dialog.callId, dialog.localTag, sequence)
          .catch((error) =>
            this.#deps.logger.warn({ err: error, callId: dialog.callId }, 'kept dialog CSeq')
          )
      }
  }

  /** Is this source address one of our carriers (its hosts, or the sources its profile declares)? */
  #carrierAt(address: string): Promise<string | null> {
    return this.#sources.carrierAt(address)
  }

  async #ourNumber(dialled: string): Promise<NumberOwner | null> {
    const number = this.#e164(dialled)
    return number ? this.#deps.numbers.findByNumber(number) : null
  }

  /** "+4930…", "4930…" and "004930…" as "+4930…" (carriers signal all three); null for anything else. */
  #e164(user: string): string | null {
    return toE164(user, { bareIsInternational: true })
  }
}

/** Dialogs as the store keeps them. */
function keptLegs(legs: PersistedLeg[]) {
  return legs.map(({ dialog, party }) => ({ party, snapshot: snapshotOf(dialog) }))
}

/** A call on its way to users (inbound or internal), as forwarding carries it on. */
interface Delivery {
  invite: IncomingInvite
  record: CallRecord
  company: Company
  /** Who calls, as the users' phones show it. */
  shown: ShownCaller
  /** A is a carrier (inbound); else a user's phone or browser (internal). */
  aIsCarrier: boolean
  /** A's media leg, decided from its offer and transport (media_security.ts). */
  aMedia: LegMedia
  /** The company number the call came in on (inbound): the diverting number towards carriers. */
  calledNumber: string | null
  /** The caller's E.164 number when known and not withheld (inbound). */
  originalCaller: string | null
  /** Forwardings the call went through before it reached us (Diversion, History-Info). */
  priorDiversions: number
  /** Made when something first rings. */
  session?: CallSession
}

/**
 * Ringing users ended without anyone taking the call: the condition a forwarding may take it on
 * for (null: none, e.g. out of capacity), and what the caller gets otherwise.
 */
interface Unanswered {
  condition: Exclude<ForwardCondition, 'always'> | null
  status: number
  reason?: string
  cause?: DisconnectCause
}

/** Busy or declined, nobody reachable, or rung out unanswered (480); null for anything else. */
function conditionOf(status: number, targets: number): Unanswered['condition'] {
  if (status === 486 || status === 603) return 'busy'
  if (status !== 480) return null
  return targets ? 'no_answer' : 'unreachable'
}

/** At most this many forwardings per call, counting those before it reached us. */
export const MAX_FORWARD_HOPS = 5

/** Forwardings an INVITE reports: Diversion entries (RFC 5806) or History-Info entries less one (RFC 7044). */
function diversionsOf(invite: IncomingInvite): number {
  const count = (name: string) =>
    invite.request.headers
      .getAll(name)
      .flatMap((value) => value.split(','))
      .filter((entry) => entry.trim()).length
  return Math.max(count('diversion'), count('history-info') - 1, 0)
}

/** What one INVITE has produced so far, so that a failure can still close its CDR. */
interface CallAttemptState {
  /** The Request-URI's user part, its escapes decoded ('' for none). */
  dialled: string
  record?: CallRecord
}

/**
 * Where the caller really is: behind a trusted SIP front the client it named (its own transport
 * and address), else the INVITE's source.
 */
function callerSource(invite: IncomingInvite) {
  return clientOf(invite.request, invite.incoming.transaction.destination)
}
