/**
 * The media contract between the B2BUA (app/calls/b2bua) and the media engine (packages/media).
 * Signalling never touches packets; media never touches SIP. The B2BUA hands SDP strings in and
 * gets SDP strings out, then bridges two legs. Nothing here records or stores media.
 *
 * Legs:
 * - WebRtcLeg: a browser (werift RTCPeerConnection: ICE host candidates, DTLS-SRTP).
 * - RtpLeg: a carrier or a customer's own SIP phone (plain RTP over UDP; SDES-SRTP only over TLS).
 * Both speak G.711 (PCMU, PCMA), Opus (48000/2, RFC 7587) and telephone-event/8000. Opus is
 * relayed unchanged between two legs that negotiated it. Never a transcoder: two legs without a
 * common codec cannot be bridged (carriers are offered only their profile's G.711 codecs).
 */

import type { TonePattern } from '#media/tone'

export type G711CodecName = 'PCMU' | 'PCMA'
export type AudioCodecName = G711CodecName | 'opus'

/** RTP clock rate of each codec (Opus is always 48000 in SDP and RTP, RFC 7587 §4.1). */
export const CODEC_CLOCK_RATES: Record<AudioCodecName, number> = {
  PCMU: 8000,
  PCMA: 8000,
  opus: 48000,
}

export function isG711(codec: AudioCodecName): codec is G711CodecName {
  return codec === 'PCMU' || codec === 'PCMA'
}

/** What one leg negotiated: payload types are the leg's own, the bridge maps between them. */
export interface NegotiatedMedia {
  audio: { codec: AudioCodecName; payloadType: number }
  /** telephone-event/8000, when both sides have it. */
  dtmf: { payloadType: number } | null
  /** Our direction towards that leg after the negotiation. */
  direction: MediaDirection
}

export type MediaDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive'

export interface OfferOptions {
  /** Audio codecs to offer, in preference order (e.g. what the other leg offered). */
  codecs: AudioCodecName[]
  /** Offer telephone-event/8000 too (default true). */
  dtmf?: boolean
  direction?: MediaDirection
  /**
   * The other side's SDP, whose dynamic payload type numbers (Opus, telephone-event) the offer
   * reuses where it can. An engine that relays payload types unchanged (rtpengine) needs it; one
   * that maps them per leg (ours) may ignore it.
   */
  payloadTypesFrom?: string
}

export interface AnswerOptions {
  /** The only audio codecs we may accept, in preference order; the first the offer has wins. */
  codecs: AudioCodecName[]
  dtmf?: boolean
  direction?: MediaDirection
}

/** Thrown when an offer or answer has nothing we can use (→ 488 Not Acceptable Here). */
export class MediaNegotiationError extends Error {}

/**
 * Thrown when a port range is used up, or an external media engine (rtpengine) does not answer:
 * no new leg until that changes (→ 503 with Retry-After).
 */
export class MediaCapacityError extends Error {
  constructor(
    readonly resource: 'rtp_ports' | 'webrtc_ports' | 'media_engine',
    message: string,
    options?: ErrorOptions
  ) {
    super(message, options)
  }
}

/**
 * The engine in use cannot do this (the built-in engine: an announcement to an Opus leg). The
 * B2BUA refuses the feature with this message instead of failing the call.
 */
export class MediaFeatureUnavailableError extends Error {
  constructor(
    readonly feature: 'echo' | 'tone' | 'srtp' | 'announcement',
    message: string
  ) {
    super(message)
  }
}

export interface MediaLegStats {
  packetsReceived: number
  packetsSent: number
  /** Packets dropped because they came from an address other than the signalled (or latched) one. */
  packetsRejected: number
  /**
   * Packets the operating system refused to send to the peer (a full send buffer, no route, an
   * address it refuses such as a broadcast one): lost, as a UDP send is. Not in packetsSent.
   */
  sendFailures: number
}

/**
 * How the media we receive on a leg fares (RFC 3550 A.3, A.8 from our own sequence numbers and
 * timestamps), and the round-trip time where the peer sends RTCP reports about our stream.
 */
export interface LegQuality {
  packetsExpected: number
  packetsLost: number
  /** packetsLost / packetsExpected; 0 before anything was expected. */
  lossFraction: number
  /** Interarrival jitter of what we receive, ms. */
  jitterMs: number
  /** Mean round-trip time from the peer's RTCP reports; null when it sent none (sipp). */
  rttMs: number | null
  /** RTCP compound packets we sent to the peer and received from it. */
  rtcpSent: number
  rtcpReceived: number
}

export interface MediaLeg {
  readonly kind: 'webrtc' | 'rtp'
  /** Set after a completed offer/answer. */
  readonly negotiated: NegotiatedMedia | null
  readonly stats: MediaLegStats
  /** Loss, jitter and round-trip time so far (read when asked: at the call's end, live pages). */
  readonly quality: LegQuality
  /**
   * The offer in `offer` is answered (a first offer, or a re-offer such as hold from the peer).
   * Resolves with our answer SDP. Re-offers on the same leg keep its ports, keys and SSRC.
   */
  answer(offerSdp: string, options: AnswerOptions): Promise<{ sdp: string; media: NegotiatedMedia }>
  /** Creates an offer (first, or a re-offer after the call is up: hold/resume, codec change). */
  createOffer(options: OfferOptions): Promise<string>
  /** Applies the peer's answer to our last offer. */
  applyAnswer(answerSdp: string): Promise<NegotiatedMedia>
  /** Resolves when media can flow (ICE + DTLS connected for WebRTC; immediately for RTP). */
  ready(): Promise<void>
  close(): Promise<void>
}

export interface WebRtcLeg extends MediaLeg {
  readonly kind: 'webrtc'
}

export interface RtpLegOptions {
  /**
   * Registered phones behind NAT: after the first packet from the signalled IP (any port), send
   * there. Carriers: false, packets only from the exact signalled address and port.
   */
  latching?: boolean
  /** SDES-SRTP (RFC 4568); only allowed when the signalling runs over TLS. */
  srtp?: boolean
  /**
   * Another leg of the same call: an engine that spreads legs over processes (WorkerMediaEngine)
   * puts the new leg next to it, so their bridge stays in one process. Others ignore it.
   */
  near?: MediaLeg
}

export interface WebRtcLegOptions {
  /** As RtpLegOptions.near. */
  near?: MediaLeg
}

export interface RtpLeg extends MediaLeg {
  readonly kind: 'rtp'
  /** Our UDP port for this leg, from the RTP port range. */
  readonly localPort: number
}

/**
 * A recorded announcement ("this number is not in service", a closed-hours message): a WAV file
 * of 16-bit linear PCM, 8 kHz, mono (`sox in.wav -r 8000 -c 1 -b 16 out.wav`), at most 10 minutes.
 * The engine reads it where it runs (in a media worker: that process), so the path must be there.
 */
export interface Announcement {
  path: string
}

export interface BridgeOptions {
  /** No RTP from either leg for this long ends the call (suspended while on hold). */
  mediaTimeoutSeconds: number
}

/**
 * media_timeout: neither peer sent media for the timeout. media_failed: the engine lost the
 * bridge (a media worker process died).
 */
export type BridgeEndReason = 'media_timeout' | 'media_failed'

/** Why an engine gave up a leg (MediaEngine.onLegLost). */
export type LegLossReason = 'worker_ended' | 'connection_failed'

/**
 * Relays audio and RFC 4733 DTMF between two legs, mapping payload types (each leg's own) and
 * keeping the SSRC, sequence numbers and timestamps continuous towards a leg when the other side
 * changes (another fork answering, a re-INVITE), so the browser never sees a jump.
 */
export interface MediaBridge {
  readonly a: MediaLeg
  readonly b: MediaLeg
  /** Called after either leg re-negotiated (codec or payload types may have changed). */
  refresh(): void
  /** Hold: nothing is forwarded towards the held side and the media timeout is suspended. */
  setHeld(held: boolean): void
  /** Replace one leg (early media moved to another fork); the other leg sees continuous RTP. */
  replace(old: MediaLeg, next: MediaLeg): void
  /** Packets relayed each way since the bridge started: a → b and b → a. */
  readonly relayed: { aToB: number; bToA: number }
  /**
   * Plays a tone (by default WARNING_TONE) to one leg's peer in that leg's codec; meanwhile the
   * other side's audio is not relayed to it. Resolves with the frames sent, once it is over.
   */
  playTone(toward: MediaLeg, pattern?: TonePattern): Promise<number>
  /**
   * Plays a recorded announcement to one leg's peer as playTone does a tone (the other side's
   * audio waits meanwhile); a file the engine cannot play gets AnnouncementFileError. The built-in
   * engine plays G.711 legs only (MediaFeatureUnavailableError for Opus). Resolves with the 20 ms
   * frames played.
   */
  playAnnouncement(toward: MediaLeg, announcement: Announcement): Promise<number>
  onEnded(listener: (reason: BridgeEndReason) => void): void
  /** Stops relaying; does not close the legs. */
  close(): void
}

/**
 * One relayed RTP packet as a test tap sees it: its payload as the relay has it, after SRTP
 * decryption (a copy the listener may keep). For tests only; a bridge without a tap pays nothing.
 */
export interface RelayedPacket {
  /** a → b or b → a of the bridge (a: the leg it was created with first). */
  direction: 'aToB' | 'bToA'
  /** The leg the packet arrived on and the leg it leaves on. */
  from: MediaLeg
  to: MediaLeg
  /** The payload type as it arrived (the sender's numbering). */
  payloadType: number
  /** RFC 4733 telephone events apart from audio. */
  dtmf: boolean
  payload: Buffer
}

export type RelayTap = (packet: RelayedPacket) => void

export interface MediaEngineConfig {
  /** Addresses written into SDP and ICE candidates (MEDIA_ANNOUNCED_IPS); 127.0.0.1 in tests. */
  announcedIps: string[]
  /** UDP ports for WebRTC (ICE) sockets, inclusive. */
  webrtcPorts: [number, number]
  /** UDP ports for plain RTP towards carriers and phones; must not overlap webrtcPorts. */
  rtpPorts: [number, number]
  mediaTimeoutSeconds: number
  /**
   * Where RTP is handled per packet (MEDIA_PACKET_PATH): 'native', the default, the C++ path
   * (packages/media/native) where it is built, else TypeScript; 'typescript' always TypeScript.
   */
  packetPath?: 'native' | 'typescript'
}

export interface MediaEngine {
  createWebRtcLeg(options?: WebRtcLegOptions): Promise<WebRtcLeg>
  createRtpLeg(options?: RtpLegOptions): Promise<RtpLeg>
  bridge(a: MediaLeg, b: MediaLeg, options?: Partial<BridgeOptions>): MediaBridge
  /**
   * The echo-test number: answers a leg and sends its own audio back after a short delay (the
   * server's own service; no carrier). Ends when the leg closes.
   */
  echo(leg: MediaLeg): { close(): void }
  /**
   * Legs the engine can no longer carry media on, bridged or not, each once: its media worker
   * process died, or a WebRTC leg's connection failed (no working ICE pair, a failed DTLS
   * handshake, the browser's consent expired). The call holding it ends ('media_failed').
   * Returns the unsubscribe.
   */
  onLegLost?(listener: (leg: MediaLeg, reason: LegLossReason) => void): () => void
  readonly openLegs: number
  /**
   * Ends the media sessions a dead node (`owner`, its node id) left in an engine shared between
   * nodes (rtpengine); resolves with how many. Absent where each node's media dies with it (the
   * built-in engine).
   */
  endSessionsOf?(owner: string): Promise<number>
  close(): Promise<void>
}
