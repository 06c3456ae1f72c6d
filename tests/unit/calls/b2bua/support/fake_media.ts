import {
  sdpFacts,
  type AudioCodecName,
  type BridgeEndReason,
  type LegQuality,
  type MediaBridge,
  type MediaDirection,
  type MediaEngine,
  type MediaLeg,
  type NegotiatedMedia,
  type RtpLeg,
  type WebRtcLeg,
} from '#media'

// Opus would need opus/48000/2 in audioSdp: the call session tests use G.711 only
const PAYLOAD_TYPES: Record<AudioCodecName, number> = { PCMU: 0, PCMA: 8, opus: 111 }

/** A plain RTP SDP as a leg at `port` would write it. */
export function audioSdp(
  port: number,
  codecs: AudioCodecName[],
  direction: MediaDirection = 'sendrecv'
) {
  const types = codecs.map((codec) => PAYLOAD_TYPES[codec])
  return [
    'v=0',
    `o=- ${port} 1 IN IP4 192.0.2.99`,
    's=-',
    'c=IN IP4 192.0.2.99',
    't=0 0',
    `m=audio ${port} RTP/AVP ${types.join(' ')}`,
    ...codecs.map((codec) => `a=rtpmap:${PAYLOAD_TYPES[codec]} ${codec}/8000`),
    `a=${direction}`,
    '',
  ].join('\r\n')
}

/** A media leg without sockets: offers and answers SDP as a real one would, remembers what it did. */
export class FakeLeg implements MediaLeg {
  /** 'webrtc' stands for a browser's leg (the SDP stays plain: the session only reads the kind). */
  readonly kind: 'rtp' | 'webrtc'
  negotiated: NegotiatedMedia | null = null
  readonly stats = { packetsReceived: 0, packetsSent: 0, packetsRejected: 0, sendFailures: 0 }
  /** What a test says this leg received (loss, jitter, round-trip time). */
  quality: LegQuality = {
    packetsExpected: 0,
    packetsLost: 0,
    lossFraction: 0,
    jitterMs: 0,
    rttMs: null,
    rtcpSent: 0,
    rtcpReceived: 0,
  }
  closed = false
  offers: string[] = []

  constructor(
    readonly localPort: number,
    kind: 'rtp' | 'webrtc' = 'rtp'
  ) {
    this.kind = kind
  }

  #negotiate(codec: AudioCodecName, direction: MediaDirection): NegotiatedMedia {
    this.negotiated = { audio: { codec, payloadType: PAYLOAD_TYPES[codec] }, dtmf: null, direction }
    return this.negotiated
  }

  async answer(offer: string, options: { codecs: AudioCodecName[]; direction?: MediaDirection }) {
    const offered = sdpFacts(offer).codecs
    const codec = options.codecs.find((candidate) => offered.includes(candidate))
    if (!codec) throw new Error('no common codec')
    const direction = options.direction ?? 'sendrecv'
    return {
      sdp: audioSdp(this.localPort, [codec], direction),
      media: this.#negotiate(codec, direction),
    }
  }

  async createOffer(options: { codecs: AudioCodecName[]; direction?: MediaDirection }) {
    const offer = audioSdp(this.localPort, options.codecs, options.direction)
    this.offers.push(offer)
    return offer
  }

  async applyAnswer(answer: string) {
    const facts = sdpFacts(answer)
    return this.#negotiate(facts.codecs[0], facts.direction)
  }

  async ready() {}

  async close() {
    this.closed = true
  }
}

export class FakeBridge implements MediaBridge {
  readonly relayed = { aToB: 0, bToA: 0 }
  held: boolean[] = []
  closed = false
  /** The legs a tone was played to, in order. */
  tones: MediaLeg[] = []
  #listeners: Array<(reason: BridgeEndReason) => void> = []

  constructor(
    public a: MediaLeg,
    public b: MediaLeg
  ) {}

  refresh() {}
  setHeld(held: boolean) {
    this.held.push(held)
  }
  replace(old: MediaLeg, next: MediaLeg) {
    if (this.a === old) this.a = next
    else this.b = next
  }
  async playTone(toward: MediaLeg) {
    this.tones.push(toward)
    return 0
  }
  async playAnnouncement(toward: MediaLeg) {
    this.tones.push(toward)
    return 0
  }
  onEnded(listener: (reason: BridgeEndReason) => void) {
    this.#listeners.push(listener)
  }
  /** No RTP for the media timeout: what the real bridge reports. */
  timeOut() {
    for (const listener of this.#listeners) listener('media_timeout')
  }
  close() {
    this.closed = true
  }
}

/** The MediaEngine contract on fake legs; `bridges` are there for the test to look at. */
export class FakeMediaEngine implements MediaEngine {
  readonly legs: FakeLeg[] = []
  readonly bridges: FakeBridge[] = []
  #nextPort = 40_000

  leg(kind: 'rtp' | 'webrtc' = 'rtp'): FakeLeg {
    const leg = new FakeLeg((this.#nextPort += 2), kind)
    this.legs.push(leg)
    return leg
  }

  async createWebRtcLeg(): Promise<WebRtcLeg> {
    throw new Error('no WebRTC in the unit tests')
  }

  async createRtpLeg(): Promise<RtpLeg> {
    return this.leg() as RtpLeg
  }

  bridge(a: MediaLeg, b: MediaLeg): MediaBridge {
    const bridge = new FakeBridge(a, b)
    this.bridges.push(bridge)
    return bridge
  }

  echo() {
    return { close() {} }
  }

  get openLegs() {
    return this.legs.filter((leg) => !leg.closed).length
  }

  async close() {}
}
