import NgClient from '#media/rtpengine/ng_client'
import RtpengineLeg, { ownerPrefix } from '#media/rtpengine/rtpengine_leg'
import {
  MediaFeatureUnavailableError,
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
 * RtpengineLeg); what rtpengine cannot do for us (the server's own tones) is refused with
 * MediaFeatureUnavailableError.
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
      await this.a.pointAt(connected ? this.b.innerPort : null)
      await this.b.pointAt(connected ? this.a.innerPort : null)
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

  playTone(): Promise<number> {
    return Promise.reject(
      new MediaFeatureUnavailableError(
        'tone',
        'the rtpengine media engine does not play the server’s own tones (MEDIA_ENGINE=builtin does)'
      )
    )
  }

  playAnnouncement(): Promise<number> {
    return Promise.reject(
      new MediaFeatureUnavailableError(
        'announcement',
        'the rtpengine media engine does not play announcements yet (MEDIA_ENGINE=builtin does)'
      )
    )
  }

  onEnded(listener: (reason: BridgeEndReason) => void) {
    this.#listeners.push(listener)
  }

  close() {
    if (this.#closed) return
    this.#closed = true
    clearInterval(this.#watch)
    this.#connect()
  }

  /** Resolves when the ng commands issued so far are done (tests, shutdown). */
  settled() {
    return this.#work
  }
}
