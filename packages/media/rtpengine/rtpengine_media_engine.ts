import NgClient, { NgCommandError } from '#media/rtpengine/ng_client'
import { AnnouncementFileError, wavBytes } from '#media/announcement'
import { WARNING_TONE, g711Decoder, toneFrames, type TonePattern } from '#media/tone'
import RtpengineLeg, { ownerPrefix } from '#media/rtpengine/rtpengine_leg'
import {
  type Announcement,
  type BridgeEndReason,
  type BridgeOptions,
  type MediaBridge,
  type MediaEngine,
  type MediaLeg,
  type RtpLeg,
  type RtpLegOptions,
  type WebRtcLeg,
} from '#media/types'

export interface RtpengineEngineConfig {
  /** rtpengine's ng control socket (UDP). */
  ng: { host: string; port: number }
  /** The address rtpengine listens on for the inner sides (its --interface); loopback in one box. */
  innerAddress: string
  /** How long one ng command may take (retransmissions included). */
  commandTimeoutMs?: number
  /** A bridge whose legs receive nothing for this long ends (default 30; BridgeOptions wins). */
  mediaTimeoutSeconds?: number
  /** Bridge work that failed after the B2BUA went on (a re-pointing rtpengine refused). */
  onError?: (error: unknown, context: string) => void
  /**
   * Who opens the legs (the node's id, NODE_ID): their rtpengine call-ids carry it, so that
   * another node sharing the rtpengine can end them when this one dies (endSessionsOf).
   */
  owner?: string
}

/** rtpengine's `list` answers at most this many call-ids (its own default is 32). */
const LIST_LIMIT = 1_000_000

/**
 * The MediaEngine contract over rtpengine's ng protocol: rtpengine relays the packets (in the
 * kernel where its module is loaded), we only signal. Each leg is one rtpengine call (see
 * RtpengineLeg). Tones and announcements are rtpengine's `play media`.
 */
export default class RtpengineMediaEngine implements MediaEngine {
  readonly ng: NgClient
  #legs = new Set<RtpengineLeg>()

  constructor(private config: RtpengineEngineConfig) {
    this.ng = new NgClient({ ...config.ng, timeoutMs: config.commandTimeoutMs })
  }

  get openLegs() {
    return this.#legs.size
  }

  /** Asks rtpengine whether it is there (startup check, readiness). */
  async ping() {
    const reply = await this.ng.command('ping')
    return reply.result === 'pong'
  }

  async createWebRtcLeg(): Promise<WebRtcLeg> {
    return this.#leg('webrtc', {}) as RtpengineLeg & WebRtcLeg
  }

  async createRtpLeg(options: RtpLegOptions = {}): Promise<RtpLeg> {
    return this.#leg('rtp', options) as RtpengineLeg & RtpLeg
  }

  #leg(kind: 'webrtc' | 'rtp', options: RtpLegOptions) {
    const leg = new RtpengineLeg(
      kind,
      this.ng,
      { ...options, address: this.config.innerAddress },
      (closed) => this.#legs.delete(closed),
      this.config.owner
    )
    this.#legs.add(leg)
    return leg
  }

  bridge(a: MediaLeg, b: MediaLeg, options: Partial<BridgeOptions> = {}): MediaBridge {
    return new RtpengineBridge(
      legOf(a),
      legOf(b),
      options.mediaTimeoutSeconds ?? this.config.mediaTimeoutSeconds ?? 30,
      (error, context) => this.config.onError?.(error, context)
    )
  }

  /** The caller hears itself: its leg's inner side points back at itself inside rtpengine. */
  echo(leg: MediaLeg) {
    const own = legOf(leg)
    const done = own.pointAt(own.innerPort).catch((error) => this.config.onError?.(error, 'echo'))
    return {
      close: () => {
        void done.then(() => own.pointAt(null)).catch(() => {})
      },
    }
  }

  /**
   * Deletes the calls a dead node (`owner`) left open in rtpengine, found by their call-ids'
   * prefix in rtpengine's list; one that ended meanwhile counts as deleted. Resolves with the
   * number deleted. The node's own open legs are never among them unless it is the owner named.
   */
  async endSessionsOf(owner: string): Promise<number> {
    const prefix = ownerPrefix(owner)
    const listed = await this.ng.command('list', { limit: LIST_LIMIT })
    const calls = Array.isArray(listed.calls) ? listed.calls.map(String) : []
    let deleted = 0
    for (const callId of calls.filter((id) => id.startsWith(prefix))) {
      await this.ng.command('delete', { 'call-id': callId }).catch((error: Error) => {
        if (!/unknown call-id/i.test(error.message)) throw error
      })
      deleted += 1
    }
    return deleted
  }

  /** Deletes every call still open in rtpengine, then closes the control socket. */
  async close() {
    await Promise.allSettled([...this.#legs].map((leg) => leg.close()))
    this.ng.close()
  }
}

function legOf(leg: MediaLeg): RtpengineLeg {
  if (!(leg instanceof RtpengineLeg)) throw new TypeError('not a leg of the rtpengine engine')
  return leg
}

/**
 * Two legs' inner sides pointed at each other. The contract's methods are synchronous: the ng
 * commands run in order behind them and a failure goes to onError (the call's media then stops,
 * and the media timeout or the peer ends it). Every third of the media timeout both legs are
 * queried: their counters feed `relayed` and the legs' stats, and when neither peer sent anything
 * for the whole timeout (not on hold), or rtpengine forgot a call, the bridge ends.
 */
class RtpengineBridge implements MediaBridge {
  relayed = { aToB: 0, bToA: 0 }
  #work: Promise<void> = Promise.resolve()
  #held = false
  #closed = false
  #listeners: Array<(reason: BridgeEndReason) => void> = []
  #watch: NodeJS.Timeout
  #lastReceived = -1
  #lastChange = Date.now()
  #ended = false
  /** Legs something is played to: the other leg's audio is not sent to them meanwhile. */
  #playing = new Map<RtpengineLeg, { stop: () => void; done: Promise<number> }>()

  constructor(
    public a: RtpengineLeg,
    public b: RtpengineLeg,
    private timeoutSeconds: number,
    private onError: (error: unknown, context: string) => void
  ) {
    this.#connect()
    this.#watch = setInterval(
      () => void this.#check(),
      Math.max(250, (timeoutSeconds * 1000) / 3)
    ).unref()
  }

  async #check() {
    if (this.#closed || this.#ended) return
    const [a, b] = await Promise.all([this.a.readStats(), this.b.readStats()])
    if (this.#closed) return
    if (a === 'gone' || b === 'gone') return this.#end()
    if (a) this.relayed.aToB = a.packetsReceived
    if (b) this.relayed.bToA = b.packetsReceived
    const received = (a?.packetsReceived ?? 0) + (b?.packetsReceived ?? 0)
    if (received !== this.#lastReceived || this.#held) {
      this.#lastReceived = received
      this.#lastChange = Date.now()
    } else if (Date.now() - this.#lastChange >= this.timeoutSeconds * 1000) {
      this.#end()
    }
  }

  #end() {
    if (this.#ended) return
    this.#ended = true
    clearInterval(this.#watch)
    for (const listener of this.#listeners) listener('media_timeout')
  }

  #queue(context: string, step: () => Promise<unknown>) {
    this.#work = this.#work.then(step).then(
      () => {},
      (error) => this.onError(error, context)
    )
  }

  #connect() {
    this.#queue('bridge', async () => {
      const connected = !this.#held && !this.#closed
      // A leg's inner side sends to the other leg's: towards the other leg's peer
      await this.a.pointAt(connected && !this.#playing.has(this.b) ? this.b.innerPort : null)
      await this.b.pointAt(connected && !this.#playing.has(this.a) ? this.a.innerPort : null)
    })
  }

  refresh() {
    this.#connect()
  }

  setHeld(held: boolean) {
    if (held === this.#held) return
    this.#held = held
    this.#connect()
  }

  replace(old: MediaLeg, next: MediaLeg) {
    const previous = legOf(old)
    if (previous === this.a) this.a = legOf(next)
    else if (previous === this.b) this.b = legOf(next)
    else return
    this.#queue('replace', () => previous.pointAt(null))
    this.#connect()
  }

  /** The tone as a WAV file's bytes (16-bit PCM, 8 kHz), played by rtpengine. */
  playTone(toward: MediaLeg, pattern: TonePattern = WARNING_TONE): Promise<number> {
    const decode = g711Decoder('PCMU')
    const frames = toneFrames(pattern, 'PCMU')
    const samples = Int16Array.from(Buffer.concat(frames), (byte) => decode(byte))
    return this.#play(toward, { blob: wavBytes(samples) })
  }

  /** rtpengine reads the file itself: the path must be there on rtpengine's host. */
  async playAnnouncement(toward: MediaLeg, announcement: Announcement): Promise<number> {
    try {
      return await this.#play(toward, { file: announcement.path })
    } catch (error) {
      if (!(error instanceof NgCommandError)) throw error
      throw new AnnouncementFileError(
        `rtpengine could not play the announcement ${announcement.path} (${error.reason})`,
        { cause: error }
      )
    }
  }

  /**
   * Holds the other leg's audio back from `toward`, has rtpengine play `source` to its peer and
   * resolves with the 20 ms frames that took, once it is over (or the bridge closed).
   */
  async #play(toward: MediaLeg, source: { file: string } | { blob: Buffer }): Promise<number> {
    const leg = legOf(toward)
    if (leg !== this.a && leg !== this.b) throw new Error('The leg is not part of this bridge')
    // One playback per leg: a new one ends the running one first (its stop media comes before)
    const running = this.#playing.get(leg)
    if (running) {
      running.stop()
      await running.done.catch(() => {})
    }
    if (this.#closed) return 0
    let stop!: () => void
    const stopped = new Promise<void>((resolve) => (stop = resolve))
    // Pointed away first: #playTo waits for that before rtpengine starts playing
    const entry = { stop, done: Promise.resolve(0) }
    this.#playing.set(leg, entry)
    this.#connect()
    const done = this.#playTo(leg, source, stopped).finally(() => {
      if (this.#playing.get(leg) !== entry) return
      this.#playing.delete(leg)
      this.#connect()
    })
    entry.done = done
    return done
  }

  async #playTo(
    leg: RtpengineLeg,
    source: { file: string } | { blob: Buffer },
    stopped: Promise<void>
  ): Promise<number> {
    await this.#work
    const duration = await leg.playMedia(source)
    const started = Date.now()
    let timer: NodeJS.Timeout | undefined
    await Promise.race([stopped, new Promise((resolve) => (timer = setTimeout(resolve, duration)))])
    clearTimeout(timer)
    const played = Date.now() - started
    if (played < duration) await leg.stopMedia()
    return Math.round(Math.min(duration, played) / 20)
  }

  onEnded(listener: (reason: BridgeEndReason) => void) {
    this.#listeners.push(listener)
  }

  close() {
    if (this.#closed) return
    this.#closed = true
    clearInterval(this.#watch)
    for (const { stop } of this.#playing.values()) stop()
    this.#connect()
  }

  /** Resolves when the ng commands issued so far are done (tests, shutdown). */
  settled() {
    return this.#work
  }
}
