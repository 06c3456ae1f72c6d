import {
  encodeCompound,
  ntpMiddle,
  ntpTime,
  parseRtcp,
  roundTripMs,
  type ReportBlock,
} from '#media/rtcp_packet'
import type { ReceptionView } from '#media/native_packet_path'
import { MEDIA_TIMERS, type CoalescedTimer } from '#media/coalesced_timers'

/** RFC 3550 §6.2: 5 s is the recommended minimum interval; ours, randomised by 0.5-1.5. */
export const RTCP_INTERVAL_MS = 5000

/** Our SRs remembered for the round-trip time (a peer names its last SR received). */
const SRS_KEPT = 4
/**
 * How far a peer's DLSR may overstate its delay: it is measured on the peer's clock, which may
 * tick in whole milliseconds (baresip's does), so a round trip below that reads up to 1 ms less.
 */
const PEER_CLOCK_SLACK_MS = 2

/** The timer and wall clock RTCP runs on; tests pass their own. */
export interface RtcpClock {
  /** Wall-clock ms since the Unix epoch (NTP timestamps in SRs, LSR/DLSR arithmetic). */
  now(): number
  /**
   * Monotonic ms with sub-millisecond resolution, for the round-trip time of reports naming one of
   * our recent SRs; `now()` when absent. On loopback or a LAN the round trip is under a
   * millisecond: whole-millisecond wall-clock stamps can put it below zero.
   */
  elapsed?(): number
  setTimeout(callback: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

/**
 * The engine's shared timer (unref'd): the reports of all legs due in the same 100 ms slot go out
 * in one wake-up, at most 100 ms after their randomised time.
 */
export const SYSTEM_RTCP_CLOCK: RtcpClock = {
  now: () => Date.now(),
  elapsed: () => performance.now(),
  setTimeout: (callback, ms) => MEDIA_TIMERS.setTimeout(callback, ms),
  clearTimeout: (handle) => MEDIA_TIMERS.clearTimeout(handle as CoalescedTimer),
}

/** What we sent on the leg, for the sender info of an SR. */
export interface SentCounts {
  ssrc: number
  packets: number
  octets: number
  /** RTP timestamp of the last packet sent, and when (clock ms); the SR extrapolates from it. */
  lastTimestamp: number
  lastSentAt: number
  clockRate: number
}

export interface RtcpSessionOptions {
  cname: string
  reception: ReceptionView
  sent: () => SentCounts
  /** Sends one compound packet to the peer's RTCP address; false when there is none yet. */
  transmit: (packet: Buffer) => boolean
  clock?: RtcpClock
  intervalMs?: number
  random?: () => number
}

/**
 * RTCP of one RTP leg (RFC 3550 §6): every ~5 s a compound SR (when we sent media since the report
 * before last) or RR with a report block on what we receive, plus SDES CNAME; and the peer's
 * reports read: the LSR/DLSR of its report blocks about our stream give the round-trip time
 * (RFC 3550 §6.4.1). Nothing here runs per RTP packet.
 */
export default class RtcpSession {
  readonly #options: RtcpSessionOptions
  readonly #clock: RtcpClock
  readonly #intervalMs: number
  readonly #random: () => number
  #timer: unknown = null
  #stopped = false
  /** The peer's last SR: its middle NTP bits and when it arrived (clock ms). */
  #peerSr: { middle: number; at: number } | null = null
  /** Packets sent at the last two reports (an SR while we sent in either interval). */
  #sentAtReports: [number, number] = [0, 0]
  /** Our last SRs: their middle NTP bits (what the peer's LSR names) and when they left (elapsed ms). */
  #srsSent: Array<{ middle: number; at: number }> = []
  #rttSumMs = 0
  #rttSamples = 0
  #lastRttMs: number | null = null
  reportsSent = 0
  reportsReceived = 0
  /** RTCP packets from the peer that did not parse. */
  malformed = 0

  constructor(options: RtcpSessionOptions) {
    this.#options = options
    this.#clock = options.clock ?? SYSTEM_RTCP_CLOCK
    this.#intervalMs = options.intervalMs ?? RTCP_INTERVAL_MS
    this.#random = options.random ?? Math.random
  }

  /** Mean round-trip time over the peer's reports about our stream; null when none came. */
  get rttMs(): number | null {
    return this.#rttSamples === 0 ? null : this.#rttSumMs / this.#rttSamples
  }

  get lastRttMs(): number | null {
    return this.#lastRttMs
  }

  /** Arms the report timer (the first report after half an interval, RFC 3550 §6.2). */
  start() {
    if (this.#stopped || this.#timer !== null) return
    this.#schedule(0.5)
  }

  /** Stops reporting; with `bye`, a last compound with BYE goes out first (RFC 3550 §6.6). */
  stop(bye: boolean) {
    if (this.#stopped) return
    this.#stopped = true
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer)
    this.#timer = null
    if (bye && this.reportsSent > 0) this.#send(true)
  }

  #schedule(factor: number) {
    const ms = this.#intervalMs * factor * (0.5 + this.#random())
    this.#timer = this.#clock.setTimeout(this.#due, ms)
  }

  #due = () => {
    this.#timer = null
    if (this.#stopped) return
    this.#send(false)
    // Until we send media the reports are RRs; the first SR then follows within half an interval
    // (as the first report did) instead of a whole one: a peer that reports once in a short call
    // can name it (its LSR), which is what gives the round-trip time
    this.#schedule(this.#options.sent().packets === 0 ? 0.5 : 1)
  }

  /** Our compound report for now. */
  report(bye = false): Buffer {
    const now = this.#clock.now()
    const sent = this.#options.sent()
    const [beforeLast] = this.#sentAtReports
    const sender =
      sent.packets > beforeLast
        ? (() => {
            const ntp = ntpTime(now)
            this.#noteSr(ntpMiddle(ntp.seconds, ntp.fraction))
            const elapsed = Math.max(0, now - sent.lastSentAt)
            return {
              ntpSeconds: ntp.seconds,
              ntpFraction: ntp.fraction,
              rtpTimestamp:
                (sent.lastTimestamp + Math.round((elapsed * sent.clockRate) / 1000)) >>> 0,
              packetCount: sent.packets,
              octetCount: sent.octets,
            }
          })()
        : null
    this.#sentAtReports = [this.#sentAtReports[1], sent.packets]
    const blocks: ReportBlock[] = []
    const reception = this.#options.reception
    if (reception.ssrc >= 0) {
      const figures = reception.takeReport()
      const peerSr = this.#peerSr
      blocks.push({
        ...figures,
        lastSr: peerSr?.middle ?? 0,
        delaySinceLastSr: peerSr ? Math.round(((now - peerSr.at) * 65536) / 1000) : 0,
      })
    }
    return encodeCompound({ ssrc: sent.ssrc, sender, blocks, cname: this.#options.cname, bye })
  }

  #noteSr(middle: number) {
    const sent = this.#srsSent
    if (sent.length === SRS_KEPT) sent.shift()
    sent.push({ middle, at: this.#elapsed() })
  }

  #elapsed(): number {
    return this.#clock.elapsed ? this.#clock.elapsed() : this.#clock.now()
  }

  /**
   * The round-trip time of a report block about our stream: from when the SR it names left
   * (exact) when it is one of our last few, else from the NTP middle bits (RFC 3550 §6.4.1).
   */
  #roundTrip(block: ReportBlock, arrivedAt: number, now: number): number | null {
    if (block.lastSr !== 0) {
      const sr = this.#srsSent.find((entry) => entry.middle === block.lastSr)
      if (sr) {
        const ms = arrivedAt - sr.at - (block.delaySinceLastSr * 1000) / 65536
        // A round trip below the peer's clock resolution reads as 0; further below is no report
        // about this SR (stale or forged)
        if (ms >= -PEER_CLOCK_SLACK_MS && ms <= 60_000) return Math.max(0, ms)
        return null
      }
    }
    const ntp = ntpTime(now)
    return roundTripMs(ntpMiddle(ntp.seconds, ntp.fraction), block.lastSr, block.delaySinceLastSr)
  }

  #send(bye: boolean) {
    if (this.#options.transmit(this.report(bye))) this.reportsSent++
  }

  /** An RTCP packet from the peer (already decrypted, from its signalled address). */
  receive(packet: Buffer, length = packet.length) {
    const parsed = parseRtcp(packet, length)
    if (parsed === null) {
      this.malformed++
      return
    }
    this.reportsReceived++
    const now = this.#clock.now()
    const arrivedAt = this.#elapsed()
    const ourSsrc = this.#options.sent().ssrc >>> 0
    for (const report of parsed.reports) {
      if (report.sender)
        this.#peerSr = {
          middle: ntpMiddle(report.sender.ntpSeconds, report.sender.ntpFraction),
          at: now,
        }
      for (const block of report.blocks) {
        if (block.ssrc >>> 0 !== ourSsrc) continue
        const rtt = this.#roundTrip(block, arrivedAt, now)
        if (rtt === null) continue
        this.#lastRttMs = rtt
        this.#rttSumMs += rtt
        this.#rttSamples++
      }
    }
  }
}
