/**
 * What an RTP receiver sees of one leg's incoming stream (RFC 3550 §6.4.1, A.3 and A.8): packets
 * expected from the sequence numbers, packets lost, and the interarrival jitter. Plain arithmetic
 * on the packet path: no allocation, no timer, no logger. A new SSRC (another fork, a restarted
 * phone) starts a new stream; what the old one counted is kept in the totals.
 */
export default class ReceptionStats {
  /** Packets the sequence numbers of earlier streams said were sent, and how many were missing. */
  #doneExpected = 0
  #doneLost = 0
  /** SSRC of the current stream as a signed 32-bit value (never boxed by V8); valid once #started. */
  #ssrc = 0
  #started = false
  #baseSeq = 0
  #maxSeq = 0
  #cycles = 0
  #received = 0
  #lastTransit = 0
  /** Interarrival jitter in timestamp units, scaled by 16 as in RFC 3550 A.8. */
  #jitter16 = 0
  /** Expected and received at the last report (RFC 3550 A.3 fraction lost). */
  #expectedPrior = 0
  #receivedPrior = 0
  #clockRate: number
  #now: () => number

  /** The codec's clock rate changed (a re-negotiation): jitter is counted in its units. */
  setClockRate(clockRate: number) {
    this.#clockRate = clockRate
  }

  constructor(clockRate = 8000, now: () => number = performance.now.bind(performance)) {
    this.#clockRate = clockRate
    this.#now = now
  }

  /**
   * Reads SSRC, sequence number and timestamp from an RTP packet's fixed header. SSRC and timestamp
   * as signed 32-bit values and the transit time modulo 2^32: the same arithmetic (RFC 3550 A.8
   * needs only differences of transit times), no heap number per packet for values above 2^31, and
   * a timestamp wrapping around 2^32 is no jump.
   */
  packet(packet: Buffer) {
    const ssrc = packet.readInt32BE(8)
    const seq = packet.readUInt16BE(2)
    const timestamp = packet.readInt32BE(4)
    const arrival = Math.round((this.#now() * this.#clockRate) / 1000)
    if (ssrc !== this.#ssrc || !this.#started) {
      this.#fold()
      this.#started = true
      this.#ssrc = ssrc
      this.#baseSeq = seq
      this.#maxSeq = seq
      this.#cycles = 0
      this.#received = 1
      this.#lastTransit = (arrival - timestamp) | 0
      this.#jitter16 = 0
      this.#expectedPrior = 0
      this.#receivedPrior = 0
      return
    }
    this.#received++
    const delta = (seq - this.#maxSeq + 0x10000) % 0x10000
    // In order (or a small gap): advance; a wrap adds a cycle. Late or duplicate: nothing moves.
    if (delta > 0 && delta < 0x8000) {
      if (seq < this.#maxSeq) this.#cycles += 0x10000
      this.#maxSeq = seq
    }
    const transit = (arrival - timestamp) | 0
    const d = Math.abs((transit - this.#lastTransit) | 0)
    this.#lastTransit = transit
    this.#jitter16 += d - ((this.#jitter16 + 8) >> 4)
  }

  /** Packets expected over every stream so far. */
  get expected() {
    return this.#doneExpected + this.#currentExpected()
  }

  /** Packets lost over every stream so far (never negative: duplicates do not count as found). */
  get lost() {
    return this.#doneLost + Math.max(0, this.#currentExpected() - this.#received)
  }

  /** SSRC of the current stream; -1 before the first packet. */
  get ssrc() {
    return this.#started ? this.#ssrc >>> 0 : -1
  }

  /** Packets received over every stream so far. */
  get received() {
    return this.#doneExpected - this.#doneLost + this.#received
  }

  /** Lost / expected over every stream so far (0 before anything was expected). */
  get lossFraction() {
    const expected = this.expected
    return expected > 0 ? this.lost / expected : 0
  }

  /**
   * A report block's figures of the current stream (RFC 3550 §6.4.1, A.3): the fraction lost since
   * the last call of this (0-255) moves the interval on, so call it once per report.
   */
  takeReport() {
    const expected = this.#currentExpected()
    const expectedInterval = expected - this.#expectedPrior
    const receivedInterval = this.#received - this.#receivedPrior
    this.#expectedPrior = expected
    this.#receivedPrior = this.#received
    const lostInterval = expectedInterval - receivedInterval
    return {
      ssrc: this.#ssrc >>> 0,
      fractionLost:
        expectedInterval <= 0 || lostInterval <= 0
          ? 0
          : Math.floor((lostInterval * 256) / expectedInterval),
      cumulativeLost: expected - this.#received,
      extendedHighestSeq: (this.#cycles + this.#maxSeq) >>> 0,
      jitter: this.#jitter16 >> 4,
    }
  }

  /** The current stream's interarrival jitter in milliseconds. */
  get jitterMs() {
    return (this.#jitter16 / 16 / this.#clockRate) * 1000
  }

  #currentExpected() {
    if (!this.#started) return 0
    return this.#cycles + this.#maxSeq - this.#baseSeq + 1
  }

  #fold() {
    this.#doneExpected += this.#currentExpected()
    this.#doneLost += this.#started ? Math.max(0, this.#currentExpected() - this.#received) : 0
  }
}
