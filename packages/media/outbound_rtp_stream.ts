import { randomInt } from 'node:crypto'

/** 20 ms packets, the shortest gap assumed between two sources. */
const PACKET_MS = 20

/**
 * One leg's outgoing RTP stream: its own SSRC, and sequence numbers and timestamps that continue
 * when the source behind it changes (another fork answered, a re-INVITE, a carrier changing SSRC),
 * so the receiver's jitter buffer never sees a jump (RFC 3550 §5.1, RFC 7160 style re-basing).
 * Rewrites the header in place. SSRCs and timestamps are handled as signed 32-bit values (the
 * same bits): V8 boxes an unsigned value above 2^31 in a heap number at each call that is not
 * inlined (Buffer's read and write methods), a signed one never.
 */
export default class OutboundRtpStream {
  readonly ssrc: number
  /** `ssrc` as the signed 32-bit value written into packets. */
  #ssrcBits: number
  #now: () => number
  #sourceSsrc = -1
  #restart = true
  #started = false
  #seqDelta = 0
  #tsDelta = 0
  #lastSeq = 0
  #lastTs = 0
  #lastAt = 0
  /** The leg's audio clock (8000 for G.711, 48000 for Opus): timestamp units per millisecond. */
  #samplesPerMs = 8

  constructor(ssrc: number = randomInt(1, 0xffffffff), now: () => number = Date.now) {
    this.ssrc = ssrc >>> 0
    this.#ssrcBits = ssrc | 0
    this.#now = now
  }

  /** RTP timestamp of the newest packet sent, and when (this stream's clock): for RTCP SRs. */
  get lastTimestamp() {
    return this.#lastTs >>> 0
  }

  get lastSentAt() {
    return this.#lastAt
  }

  /** The negotiated codec's clock rate (Hz); used when a new source continues the timestamps. */
  setClockRate(clockRate: number) {
    this.#samplesPerMs = clockRate / 1000
  }

  /** The next packet starts a new source even if its SSRC is unchanged. */
  restart() {
    this.#restart = true
  }

  rewrite(packet: Buffer, audio: boolean) {
    const sourceSsrc = packet.readInt32BE(8)
    const seq = packet.readUInt16BE(2)
    const ts = packet.readInt32BE(4)
    const now = this.#now()
    if (this.#restart || sourceSsrc !== this.#sourceSsrc) {
      this.#rebase(sourceSsrc, seq, ts, now)
      // A new source is a new talkspurt for the receiver's jitter buffer (RFC 3551 §4.1)
      if (audio) packet[1] |= 0x80
    }
    const outSeq = (seq + this.#seqDelta) & 0xffff
    const outTs = (ts + this.#tsDelta) | 0
    packet.writeUInt16BE(outSeq, 2)
    packet.writeInt32BE(outTs, 4)
    packet.writeInt32BE(this.#ssrcBits, 8)
    // Only forward progress moves the anchor; a late packet must not pull it back
    if (((outSeq - this.#lastSeq) & 0xffff) < 0x8000) {
      this.#lastSeq = outSeq
      this.#lastTs = outTs
      this.#lastAt = now
    }
  }

  #rebase(sourceSsrc: number, seq: number, ts: number, now: number) {
    let nextSeq: number
    let nextTs: number
    if (this.#started) {
      const perMs = this.#samplesPerMs
      const elapsed = Math.max(PACKET_MS * perMs, Math.round((now - this.#lastAt) * perMs))
      nextSeq = (this.#lastSeq + 1) & 0xffff
      nextTs = (this.#lastTs + elapsed) | 0
    } else {
      nextSeq = randomInt(0, 0x8000)
      nextTs = randomInt(0, 0x7fffffff)
      this.#started = true
    }
    this.#seqDelta = (nextSeq - seq) & 0xffff
    this.#tsDelta = (nextTs - ts) | 0
    this.#sourceSsrc = sourceSsrc
    this.#restart = false
    // The anchor moves with the first packet; set it so that a first late packet counts as old
    this.#lastSeq = (nextSeq - 1) & 0xffff
  }
}
