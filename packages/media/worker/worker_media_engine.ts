import { fork, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import {
  ClosedJitter,
  addFigures,
  noFigures,
  type MediaEngineFigures,
} from '#media/media_engine_stats'
import type { TonePattern } from '#media/tone'
import { AnnouncementFileError } from '#media/announcement'
import { validateMediaConfig } from '#media/werift_media_engine'
import {
  MediaCapacityError,
  MediaFeatureUnavailableError,
  MediaNegotiationError,
  type Announcement,
  type AnswerOptions,
  type BridgeEndReason,
  type BridgeOptions,
  type LegLossReason,
  type LegQuality,
  type MediaBridge,
  type MediaEngine,
  type MediaEngineConfig,
  type MediaLeg,
  type MediaLegStats,
  type NegotiatedMedia,
  type OfferOptions,
  type RelayTap,
  type RtpLeg,
  type RtpLegOptions,
  type WebRtcLeg,
  type WebRtcLegOptions,
} from '#media/types'
import type {
  EventMessage,
  InitMessage,
  RequestMessage,
  ResponseMessage,
  WorkerError,
  WorkerRequest,
} from '#media/worker/protocol'
import Heartbeat, { type HeartbeatOptions } from '#media/worker/heartbeat'

/**
 * Splits a port range into `count` disjoint slices, each starting on an even port (RTP and RTCP
 * pairs, RFC 3550 §11) and at least two ports long.
 */
export function portSlices(range: [number, number], count: number): Array<[number, number]> {
  const [first, last] = range
  const size = Math.floor((last - first + 1) / count / 2) * 2
  if (size < 2) throw new Error(`${first}-${last} is too small for ${count} media workers`)
  const start = first % 2 === 0 ? first : first + 1
  return Array.from({ length: count }, (_, index) => {
    const from = start + index * size
    return [from, index === count - 1 ? last : from + size - 1] as [number, number]
  })
}

export interface WorkerMediaEngineConfig extends MediaEngineConfig {
  /** Media worker processes (at least 1); the port ranges are split between them. */
  workers: number
  /**
   * Each worker's JavaScript heap limit in MB (V8's --max-old-space-size); unset: V8's own. A
   * worker that runs out aborts and ends like a crashed one: only its calls end, it restarts.
   */
  maxHeapMb?: number
  /** Tests only: the workers answer the tests' requests (exhaustMemory). Never set by the product. */
  testHooks?: boolean
  /** A request the worker does not answer for this long fails (the worker is taken as hung). */
  requestTimeoutMs?: number
  /** Worker starts, crashes and restarts, and bridge commands that failed after the fact. */
  onEvent?: (event: WorkerEngineEvent) => void
  /**
   * Each worker is pinged every intervalMs (1 s); one that answers none for `misses` intervals
   * in a row (5) is hung: it is killed (SIGKILL) and ends like a crashed one.
   */
  heartbeat?: HeartbeatOptions
}

/** The pool at a glance (the operations metrics read it). */
export interface MediaWorkerFigures {
  configured: number
  alive: number
  /** Workers forked again since start: after a crash (exit) or after a hang (killed). */
  restarts: { crashed: number; hung: number }
}

export type WorkerEngineEvent =
  | { kind: 'started'; worker: number; pid: number }
  | {
      kind: 'exited'
      worker: number
      pid: number
      code: number | null
      signal: string | null
      legs: number
      /** The engine was closing (the process stops): an expected end, not restarted. */
      closing: boolean
    }
  /** No answer to the heartbeat for `silentMs`: the worker is killed and restarted. */
  | { kind: 'hung'; worker: number; pid: number; silentMs: number }
  | { kind: 'error'; worker: number; error: Error; context: string }

const EMPTY_QUALITY: LegQuality = {
  packetsExpected: 0,
  packetsLost: 0,
  lossFraction: 0,
  jitterMs: 0,
  rttMs: null,
  rtcpSent: 0,
  rtcpReceived: 0,
}

function workerEntry(): { path: string; execArgv: string[] } {
  const ts = fileURLToPath(new URL('./media_worker.ts', import.meta.url))
  if (existsSync(ts)) return { path: ts, execArgv: ['--import', '@poppinss/ts-exec'] }
  return { path: fileURLToPath(new URL('./media_worker.js', import.meta.url)), execArgv: [] }
}

function rebuildError(error: WorkerError): Error {
  if (error.resource) return new MediaCapacityError(error.resource, error.message)
  if (error.feature) return new MediaFeatureUnavailableError(error.feature, error.message)
  if (error.name === 'MediaNegotiationError') return new MediaNegotiationError(error.message)
  if (error.name === 'AnnouncementFileError') return new AnnouncementFileError(error.message)
  const rebuilt = new Error(error.message)
  rebuilt.name = error.name
  return rebuilt
}

let nextId = 1

/**
 * One slot of the pool: a forked process running media_worker.ts on its own port slices. A slot
 * outlives its processes: when one dies the slot ends what lived in it and forks the next.
 */
class MediaWorkerSlot {
  child: ChildProcess | null = null
  alive = false
  #ready: Promise<void> | null = null
  #pending = new Map<
    number,
    { resolve(value: unknown): void; reject(error: Error): void; timer: NodeJS.Timeout }
  >()
  readonly legs = new Map<number, WorkerLeg>()
  /** Bridge parts living in this worker, by id: told when the worker dies. */
  readonly parts = new Map<number, BridgePart>()
  figures: MediaEngineFigures | null = null
  readonly restarts = { crashed: 0, hung: 0 }
  #recentCrashes: number[] = []
  #restartTimer: NodeJS.Timeout | undefined
  readonly #heartbeat: Heartbeat
  /** The running process was killed by the heartbeat. */
  #hung = false

  constructor(
    readonly index: number,
    readonly config: MediaEngineConfig,
    private engine: WorkerMediaEngine
  ) {
    this.#heartbeat = new Heartbeat(
      () => this.request({ op: 'ping' }),
      () => this.#killHung(),
      engine.heartbeatOptions
    )
  }

  get pid() {
    return this.child?.pid ?? null
  }

  start(): Promise<void> {
    const { path, execArgv } = workerEntry()
    const heap = this.engine.maxHeapMb
    if (heap !== undefined) execArgv.push(`--max-old-space-size=${heap}`)
    const child = fork(path, [], { execArgv, serialization: 'advanced', stdio: 'inherit' })
    this.child = child
    this.alive = true
    this.#hung = false
    this.#ready = new Promise<void>((resolve, reject) => {
      const onMessage = (message: EventMessage | ResponseMessage) => {
        if (message.type === 'ready') {
          child.off('exit', onEarlyExit)
          if (this.child === child) this.#heartbeat.start()
          this.engine.event({ kind: 'started', worker: this.index, pid: message.pid })
          resolve()
        }
      }
      const onEarlyExit = () =>
        reject(new MediaCapacityError('media_engine', 'the media worker did not start'))
      child.on('message', onMessage)
      child.once('exit', onEarlyExit)
    })
    // A start that fails is reported by exit below; nobody needs to await it
    this.#ready.catch(() => {})
    child.on('message', (message: EventMessage | ResponseMessage) => this.#message(message))
    child.on('error', (error) =>
      this.engine.event({ kind: 'error', worker: this.index, error, context: 'process' })
    )
    child.once('exit', (code, signal) => this.#exited(child, code, signal))
    child.send({
      type: 'init',
      config: this.config,
      testHooks: this.engine.testHooks,
    } satisfies InitMessage)
    return this.#ready
  }

  async request<T>(request: WorkerRequest): Promise<T> {
    if (!this.alive || !this.child)
      throw new MediaCapacityError('media_engine', 'the media worker is restarting')
    const child = this.child
    await this.#ready
    if (this.child !== child || !this.alive)
      throw new MediaCapacityError('media_engine', 'the media worker ended')
    const id = nextId++
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id)
        reject(
          new MediaCapacityError('media_engine', `the media worker did not answer ${request.op}`)
        )
      }, this.engine.requestTimeoutMs)
      timer.unref()
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer })
      child.send({ ...request, id } satisfies RequestMessage)
    })
  }

  closedJitter(jitter: number[]) {
    this.engine.closedJitter(jitter)
  }

  /** A request whose outcome nobody waits for (the contract's synchronous bridge methods). */
  post(request: WorkerRequest, context: string) {
    this.request(request).catch((error: Error) => {
      if (this.alive) this.engine.event({ kind: 'error', worker: this.index, error, context })
    })
  }

  #message(message: EventMessage | ResponseMessage) {
    switch (message.type) {
      case 'response': {
        const pending = this.#pending.get(message.id)
        if (!pending) return
        this.#pending.delete(message.id)
        clearTimeout(pending.timer)
        if (message.ok) pending.resolve(message.result)
        else pending.reject(rebuildError(message.error))
        return
      }
      case 'stats':
        for (const snapshot of message.legs) {
          const leg = this.legs.get(snapshot.leg)
          if (leg) leg.update(snapshot.stats, snapshot.quality)
        }
        for (const figures of message.bridges) this.parts.get(figures.bridge)?.relayed(figures)
        this.figures = message.counters
        this.engine.closedJitter(message.closedJitter)
        return
      case 'bridgeEnded':
        this.parts.get(message.bridge)?.ended(message.reason)
        return
      case 'legClosed':
        this.legs.get(message.leg)?.gone()
        return
      case 'legFailed': {
        const leg = this.legs.get(message.leg)
        if (leg) this.engine.legsLost([leg], 'connection_failed')
        return
      }
      case 'tapped':
        this.engine.tapped(this, message)
    }
  }

  #killHung() {
    const child = this.child
    if (!child || !this.alive) return
    this.#hung = true
    const { intervalMs, misses } = this.#heartbeat
    this.engine.event({
      kind: 'hung',
      worker: this.index,
      pid: child.pid ?? 0,
      silentMs: intervalMs * misses,
    })
    // The exit that follows ends its calls and restarts it, as after a crash
    child.kill('SIGKILL')
  }

  #exited(child: ChildProcess, code: number | null, signal: string | null) {
    if (this.child !== child) return
    this.#heartbeat.stop()
    this.alive = false
    this.child = null
    // Its counters so far stay in the totals (the next process counts from 0)
    if (this.figures) this.engine.retire(this.figures)
    this.figures = null
    const error = new MediaCapacityError('media_engine', 'the media worker ended')
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer)
      pending.reject(error)
      this.#pending.delete(id)
    }
    const legs = [...this.legs.values()]
    this.engine.event({
      kind: 'exited',
      worker: this.index,
      pid: child.pid ?? 0,
      code,
      signal,
      legs: legs.length,
      closing: this.engine.closing,
    })
    for (const leg of legs) leg.gone()
    // Legs not (yet) in a bridge, such as an echo test's or a ringing call's, end their calls too
    this.engine.legsLost(
      legs.filter((leg) => !leg.hop),
      'worker_ended'
    )
    for (const part of [...this.parts.values()]) part.ended('media_failed')
    this.parts.clear()
    if (this.engine.closing) return
    this.restarts[this.#hung ? 'hung' : 'crashed']++
    // A worker that keeps dying is restarted less and less often (at most every 5 s)
    const now = Date.now()
    this.#recentCrashes = [...this.#recentCrashes.filter((at) => now - at < 60_000), now]
    const delay = Math.min(5000, 50 * 2 ** (this.#recentCrashes.length - 1))
    this.#restartTimer = setTimeout(() => {
      if (!this.engine.closing) this.start().catch(() => {})
    }, delay)
  }

  async close() {
    clearTimeout(this.#restartTimer)
    this.#heartbeat.stop()
    const child = this.child
    if (!child || !this.alive) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    await this.request({ op: 'close' }).catch(() => {})
    child.disconnect()
    const timer = setTimeout(() => child.kill('SIGKILL'), 2000)
    await exited
    clearTimeout(timer)
  }
}

/** A leg living in a media worker: the contract's methods are requests to it. */
class WorkerLeg implements MediaLeg {
  readonly id = nextId++
  negotiated: NegotiatedMedia | null = null
  stats: MediaLegStats = { packetsReceived: 0, packetsSent: 0, packetsRejected: 0, sendFailures: 0 }
  quality: LegQuality = EMPTY_QUALITY
  localPort = 0
  closed = false

  constructor(
    readonly kind: 'webrtc' | 'rtp',
    readonly worker: MediaWorkerSlot,
    private onClosed: (leg: WorkerLeg) => void,
    /** A loopback hop between two workers (no call's own leg). */
    readonly hop = false
  ) {}

  update(stats: MediaLegStats, quality: LegQuality) {
    this.stats = stats
    this.quality = quality
  }

  async answer(offerSdp: string, options: AnswerOptions) {
    const answered = await this.worker.request<{ sdp: string; media: NegotiatedMedia }>({
      op: 'answer',
      leg: this.id,
      sdp: offerSdp,
      options,
    })
    this.negotiated = answered.media
    return answered
  }

  createOffer(options: OfferOptions) {
    return this.worker.request<string>({ op: 'createOffer', leg: this.id, options })
  }

  async applyAnswer(answerSdp: string) {
    this.negotiated = await this.worker.request<NegotiatedMedia>({
      op: 'applyAnswer',
      leg: this.id,
      sdp: answerSdp,
    })
    return this.negotiated
  }

  async ready() {
    await this.worker.request({ op: 'ready', leg: this.id })
  }

  /** The worker closed it, or the worker is gone. */
  gone() {
    if (this.closed) return
    this.closed = true
    this.worker.legs.delete(this.id)
    this.onClosed(this)
  }

  async close() {
    if (this.closed) return
    this.gone()
    if (!this.worker.alive) return
    const closed = await this.worker
      .request<{ closedJitter: number[] }>({ op: 'closeLeg', leg: this.id })
      .catch(() => null)
    if (closed) this.worker.closedJitter(closed.closedJitter)
  }
}

/** One MediaRelayBridge inside one worker: the whole bridge, or one half of a cross-worker one. */
class BridgePart {
  readonly id = nextId++
  aToB = 0
  bToA = 0

  constructor(
    readonly worker: MediaWorkerSlot,
    readonly a: WorkerLeg,
    readonly b: WorkerLeg,
    private owner: WorkerBridge
  ) {}

  open(mediaTimeoutSeconds: number | undefined, held: boolean) {
    this.worker.parts.set(this.id, this)
    if (!this.worker.alive) return this.ended('media_failed')
    this.worker.post(
      { op: 'bridge', bridge: this.id, a: this.a.id, b: this.b.id, mediaTimeoutSeconds },
      'bridge'
    )
    if (held) this.post({ op: 'setHeld', bridge: this.id, held })
  }

  post(request: WorkerRequest) {
    this.worker.post(request, request.op)
  }

  relayed(figures: { aToB: number; bToA: number }) {
    this.aToB = figures.aToB
    this.bToA = figures.bToA
  }

  ended(reason: BridgeEndReason) {
    this.worker.parts.delete(this.id)
    this.owner.partEnded(reason)
  }

  close() {
    if (!this.worker.parts.delete(this.id)) return
    if (this.worker.alive) this.post({ op: 'closeBridge', bridge: this.id })
  }
}

/**
 * The contract's bridge over one or two workers. Legs in one worker: one MediaRelayBridge there.
 * Legs in two workers (an attended transfer joined legs of calls placed on different workers):
 * each worker gets a plain RTP leg on loopback (a hop), the two hops are negotiated with each
 * other, and each worker bridges its own leg with its hop; a packet crosses one extra UDP hop.
 * Moving a leg instead is not possible for a browser's leg (its ICE and DTLS state live in its
 * worker), so the hop is what every case uses.
 */
class WorkerBridge implements MediaBridge {
  #parts: BridgePart[] = []
  #hops: WorkerLeg[] = []
  #held = false
  #closed = false
  #ended = false
  #listeners: ((reason: BridgeEndReason) => void)[] = []
  #work: Promise<void> = Promise.resolve()
  /** Bumped by every (re)build: a hop set up for an older layout is dropped. */
  #generation = 0

  constructor(
    public a: WorkerLeg,
    public b: WorkerLeg,
    private mediaTimeoutSeconds: number | undefined,
    private engine: WorkerMediaEngine
  ) {
    this.#build()
  }

  get relayed() {
    if (this.#parts.length === 1) return { aToB: this.#parts[0].aToB, bToA: this.#parts[0].bToA }
    if (this.#parts.length === 2) return { aToB: this.#parts[0].aToB, bToA: this.#parts[1].bToA }
    return { aToB: 0, bToA: 0 }
  }

  /** Tests: whether the legs are joined through a loopback hop between two workers. */
  get crossesWorkers() {
    return this.a.worker !== this.b.worker
  }

  #queue(context: string, step: () => Promise<void>) {
    this.#work = this.#work.then(step).catch((error: Error) => {
      if (this.#closed || this.#ended) return
      this.engine.event({ kind: 'error', worker: this.a.worker.index, error, context })
      // Without its hop the bridge cannot relay: the call ends as a media failure
      this.partEnded('media_failed')
    })
  }

  #build() {
    const { a, b } = this
    const generation = ++this.#generation
    if (a.worker === b.worker) {
      const part = new BridgePart(a.worker, a, b, this)
      this.#parts = [part]
      part.open(this.mediaTimeoutSeconds, this.#held)
      return
    }
    this.#queue('bridge hop', async () => {
      if (generation !== this.#generation || this.#closed || this.#ended) return
      const hopA = await this.engine.hopLeg(a.worker)
      const hopB = await this.engine.hopLeg(b.worker).catch(async (error) => {
        await hopA.close()
        throw error
      })
      this.#hops = [hopA, hopB]
      await this.#negotiateHops()
      // Replaced or ended meanwhile: what was built is of no use
      if (generation !== this.#generation || this.#closed || this.#ended) {
        await Promise.all([hopA.close(), hopB.close()])
        if (this.#hops[0] === hopA) this.#hops = []
        return
      }
      const partA = new BridgePart(a.worker, a, hopA, this)
      const partB = new BridgePart(b.worker, hopB, b, this)
      this.#parts = [partA, partB]
      partA.open(this.mediaTimeoutSeconds, this.#held)
      partB.open(this.mediaTimeoutSeconds, this.#held)
    })
  }

  /** The hops carry the codec of leg a (the B2BUA bridges only legs with one codec). */
  async #negotiateHops() {
    const [hopA, hopB] = this.#hops
    if (!hopA || !hopB) return
    const codec = this.a.negotiated?.audio.codec ?? this.b.negotiated?.audio.codec ?? 'PCMU'
    if (hopA.negotiated?.audio.codec === codec && hopB.negotiated?.audio.codec === codec) return
    const offer = await hopA.createOffer({ codecs: [codec], dtmf: true })
    const answer = await hopB.answer(offer, { codecs: [codec], dtmf: true })
    await hopA.applyAnswer(answer.sdp)
  }

  /**
   * Closes the parts at once (their closeBridge goes out before any later bridge on the same legs,
   * which the worker would otherwise detach) and the hops after.
   */
  #teardown() {
    for (const part of this.#parts) part.close()
    this.#parts = []
    const hops = this.#hops
    this.#hops = []
    return Promise.all(hops.map((hop) => hop.close())).then(() => {})
  }

  refresh() {
    if (!this.crossesWorkers)
      return this.#parts[0]?.post({ op: 'refresh', bridge: this.#parts[0].id })
    this.#queue('bridge hop refresh', async () => {
      await this.#negotiateHops()
      for (const part of this.#parts) part.post({ op: 'refresh', bridge: part.id })
    })
  }

  setHeld(held: boolean) {
    this.#held = held
    if (!this.crossesWorkers)
      return this.#parts[0]?.post({ op: 'setHeld', bridge: this.#parts[0].id, held })
    this.#queue('bridge hold', async () => {
      for (const part of this.#parts)
        part.post({ op: 'setHeld', bridge: part.id, held: this.#held })
    })
  }

  replace(old: MediaLeg, next: MediaLeg) {
    const previous = this.engine.legOf(old)
    const replacement = this.engine.legOf(next)
    if (previous !== this.a && previous !== this.b) return
    const sameLayout = previous.worker === replacement.worker && this.a.worker === this.b.worker
    if (previous === this.a) this.a = replacement
    else this.b = replacement
    if (sameLayout) {
      const part = this.#parts[0]
      return part?.post({ op: 'replace', bridge: part.id, old: previous.id, next: replacement.id })
    }
    // The layout changes (a hop is needed, or no longer, or moves): the bridge is built anew
    void this.#teardown()
    this.#build()
  }

  playTone(toward: MediaLeg, pattern?: TonePattern): Promise<number> {
    return this.#playIn(toward, (part, leg) =>
      part.worker.request<number>({ op: 'playTone', bridge: part.id, toward: leg, pattern })
    )
  }

  playAnnouncement(toward: MediaLeg, announcement: Announcement): Promise<number> {
    return this.#playIn(toward, (part, leg) =>
      part.worker.request<number>({
        op: 'playAnnouncement',
        bridge: part.id,
        toward: leg,
        announcement,
      })
    )
  }

  /** Asks the worker holding `toward`'s half of the bridge to play to it. */
  async #playIn(toward: MediaLeg, request: (part: BridgePart, leg: number) => Promise<number>) {
    const leg = this.engine.legOf(toward)
    if (leg !== this.a && leg !== this.b) throw new Error('The leg is not part of this bridge')
    await this.#work
    const part = this.#parts.find((candidate) => candidate.a === leg || candidate.b === leg)
    if (!part || this.#closed) return 0
    return request(part, leg.id)
  }

  onEnded(listener: (reason: BridgeEndReason) => void) {
    this.#listeners.push(listener)
  }

  partEnded(reason: BridgeEndReason) {
    if (this.#ended || this.#closed) return
    this.#ended = true
    void this.#teardown()
    for (const listener of this.#listeners) listener(reason)
  }

  close() {
    if (this.#closed) return
    this.#closed = true
    void this.#teardown()
  }

  /** Resolves when the bridge's pending worker commands are done (tests). */
  settled() {
    return this.#work
  }
}

/**
 * The built-in media engine in worker processes: `workers` forked processes, each running a
 * WeriftMediaEngine on its own slice of MEDIA_RTP_PORTS and MEDIA_WEBRTC_PORTS. The main process
 * keeps signalling and only sends requests (worker/protocol.ts); packets stay in the workers, so
 * a busy main event loop delays none of them. A call's legs go to one worker (`near`), calls to
 * the worker with the fewest legs. A worker that dies ends its bridges with 'media_failed' (the
 * B2BUA ends those calls) and is forked again; the other workers' calls go on.
 */
export default class WorkerMediaEngine implements MediaEngine {
  readonly workers: MediaWorkerSlot[]
  readonly requestTimeoutMs: number
  readonly heartbeatOptions: HeartbeatOptions | undefined
  readonly maxHeapMb: number | undefined
  readonly testHooks: boolean
  closing = false
  #lost = new Set<(leg: MediaLeg, reason: LegLossReason) => void>()
  #legs = new Set<WorkerLeg>()
  #bridges = 0
  #taps = new Set<RelayTap>()
  #started: Promise<void>
  #turn = 0
  /** Counters of workers that ended (cumulative figures only) and legs' jitter not taken yet. */
  #retired = noFigures()
  #closedJitter = new ClosedJitter()
  readonly counters = {
    figures: (): MediaEngineFigures => this.#figures(),
    takeClosedJitter: (): number[] => this.#closedJitter.take(),
  }

  constructor(private config: WorkerMediaEngineConfig) {
    validateMediaConfig(config)
    if (!(Number.isInteger(config.workers) && config.workers >= 1))
      throw new Error('MEDIA_WORKERS: at least one worker (0 runs the media in the main process)')
    this.requestTimeoutMs = config.requestTimeoutMs ?? 10_000
    this.heartbeatOptions = config.heartbeat
    this.maxHeapMb = config.maxHeapMb
    this.testHooks = config.testHooks === true
    const rtp = portSlices(config.rtpPorts, config.workers)
    const webrtc = portSlices(config.webrtcPorts, config.workers)
    // Only the engine's own settings cross to the workers (onEvent is a function)
    const engineConfig: MediaEngineConfig = {
      announcedIps: config.announcedIps,
      webrtcPorts: config.webrtcPorts,
      rtpPorts: config.rtpPorts,
      mediaTimeoutSeconds: config.mediaTimeoutSeconds,
      packetPath: config.packetPath,
    }
    this.workers = rtp.map(
      (rtpPorts, index) =>
        new MediaWorkerSlot(index, { ...engineConfig, rtpPorts, webrtcPorts: webrtc[index] }, this)
    )
    this.#started = Promise.all(this.workers.map((worker) => worker.start())).then(() => {})
    this.#started.catch(() => {})
  }

  /** Resolves when every worker has started (the first time). */
  started() {
    return this.#started
  }

  event(event: WorkerEngineEvent) {
    this.config.onEvent?.(event)
  }

  get openLegs() {
    return this.#legs.size
  }

  /**
   * `listener` hears of every leg whose worker died (crashed or killed as hung), bridged or not,
   * and of WebRTC legs whose connection failed in their worker: the B2BUA ends the call that held
   * it. A dead worker's bridges are also ended ('media_failed').
   */
  onLegLost(listener: (leg: MediaLeg, reason: LegLossReason) => void): () => void {
    this.#lost.add(listener)
    return () => this.#lost.delete(listener)
  }

  closedJitter(jitter: number[]) {
    for (const value of jitter) this.#closedJitter.add(value)
  }

  retire(figures: MediaEngineFigures) {
    addFigures(this.#retired, figures)
  }

  legsLost(legs: WorkerLeg[], reason: LegLossReason) {
    for (const leg of legs) for (const listener of this.#lost) listener(leg, reason)
  }

  /** Configured and running workers, and how often they were forked again. */
  workerFigures(): MediaWorkerFigures {
    const restarts = { crashed: 0, hung: 0 }
    for (const worker of this.workers) {
      restarts.crashed += worker.restarts.crashed
      restarts.hung += worker.restarts.hung
    }
    return {
      configured: this.workers.length,
      alive: this.workers.filter((worker) => worker.alive).length,
      restarts,
    }
  }

  legOf(leg: MediaLeg): WorkerLeg {
    if (!(leg instanceof WorkerLeg))
      throw new TypeError('This media leg was not created by the worker media engine')
    return leg
  }

  /** The worker of `near` while it lives; otherwise the live worker with the fewest legs. */
  #place(near: MediaLeg | undefined): MediaWorkerSlot {
    if (near instanceof WorkerLeg && near.worker.alive && !near.closed) return near.worker
    const alive = this.workers.filter((worker) => worker.alive)
    if (alive.length === 0)
      throw new MediaCapacityError('media_engine', 'no media worker is running')
    this.#turn = (this.#turn + 1) % alive.length
    let best = alive[this.#turn]
    for (const worker of alive) if (worker.legs.size < best.legs.size) best = worker
    return best
  }

  async #create(
    kind: 'webrtc' | 'rtp',
    worker: MediaWorkerSlot,
    options: RtpLegOptions,
    hop = false
  ) {
    const leg = new WorkerLeg(kind, worker, (closed) => this.#legs.delete(closed), hop)
    worker.legs.set(leg.id, leg)
    this.#legs.add(leg)
    try {
      const created = await worker.request<{ localPort: number }>({
        op: 'createLeg',
        leg: leg.id,
        kind,
        latching: options.latching,
        srtp: options.srtp,
      })
      leg.localPort = created.localPort
      return leg
    } catch (error) {
      leg.gone()
      throw error
    }
  }

  async createWebRtcLeg(options: WebRtcLegOptions = {}): Promise<WebRtcLeg> {
    return (await this.#create('webrtc', this.#place(options.near), {})) as WorkerLeg & WebRtcLeg
  }

  async createRtpLeg(options: RtpLegOptions = {}): Promise<RtpLeg> {
    return (await this.#create('rtp', this.#place(options.near), options)) as WorkerLeg & RtpLeg
  }

  /** A plain RTP leg for a loopback hop between two workers (not counted as a call's leg). */
  hopLeg(worker: MediaWorkerSlot) {
    return this.#create('rtp', worker, { latching: false, srtp: false }, true)
  }

  bridge(a: MediaLeg, b: MediaLeg, options: Partial<BridgeOptions> = {}): MediaBridge {
    const bridge = new WorkerBridge(this.legOf(a), this.legOf(b), options.mediaTimeoutSeconds, this)
    this.#bridges++
    bridge.onEnded(() => this.#bridges--)
    const close = bridge.close.bind(bridge)
    let counted = true
    bridge.onEnded(() => (counted = false))
    bridge.close = () => {
      if (counted) this.#bridges--
      counted = false
      close()
    }
    return bridge
  }

  echo(leg: MediaLeg): { close(): void } {
    const own = this.legOf(leg)
    const id = nextId++
    own.worker.post({ op: 'echo', echo: id, leg: own.id }, 'echo')
    return {
      close: () => own.worker.alive && own.worker.post({ op: 'closeEcho', echo: id }, 'echo'),
    }
  }

  /**
   * Tests only: `listener` sees the packets every bridge relays, in every worker (payloads after
   * SRTP decryption, as WeriftMediaEngine.tapRelays); each packet crosses IPC, so it is slow.
   */
  tapRelays(listener: RelayTap): () => void {
    this.#taps.add(listener)
    if (this.#taps.size === 1)
      for (const worker of this.workers) worker.post({ op: 'tap', on: true }, 'tap')
    return () => {
      this.#taps.delete(listener)
      if (this.#taps.size === 0)
        for (const worker of this.workers)
          if (worker.alive) worker.post({ op: 'tap', on: false }, 'tap')
    }
  }

  tapped(worker: MediaWorkerSlot, message: Extract<EventMessage, { type: 'tapped' }>) {
    const from = worker.legs.get(message.from)
    const to = worker.legs.get(message.to)
    if (!from || !to) return
    for (const tap of this.#taps) {
      tap({
        direction: message.direction,
        from,
        to,
        payloadType: message.payloadType,
        dtmf: message.dtmf,
        payload: Buffer.from(message.payload),
      })
    }
  }

  /**
   * Resolves once every live worker handled what was sent to it so far: a bridge or echo set up
   * by the synchronous contract methods is in place (tests send single packets right after), and
   * the legs' and bridges' counters are fresh.
   */
  async settled() {
    await Promise.all(
      this.workers.filter((worker) => worker.alive).map((worker) => worker.request({ op: 'ping' }))
    )
  }

  #figures(): MediaEngineFigures {
    const total: MediaEngineFigures = {
      legs: { rtp: 0, webrtc: 0 },
      bridges: this.#bridges,
      ...this.#retired,
      jitterMs: [],
    }
    for (const leg of this.#legs) total.legs[leg.kind]++
    for (const worker of this.workers) {
      const figures = worker.figures
      if (!figures) continue
      addFigures(total, figures)
      total.jitterMs.push(...figures.jitterMs)
    }
    return total
  }

  async close() {
    this.closing = true
    await this.#started.catch(() => {})
    await Promise.all(this.workers.map((worker) => worker.close()))
  }
}
