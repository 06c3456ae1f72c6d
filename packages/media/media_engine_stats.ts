import type { MediaLegStats } from '#media/types'
import type { ReceptionView } from '#media/native_packet_path'

/** One leg as the engine's counters see it. */
export interface CountedLeg {
  readonly kind: 'webrtc' | 'rtp'
  readonly stats: MediaLegStats
  /** RTP legs only: loss and jitter of what they receive. */
  readonly reception?: ReceptionView
}

/** The media engine's figures at one moment: counters since start, gauges for now. */
export interface MediaEngineFigures {
  legs: { rtp: number; webrtc: number }
  bridges: number
  packetsReceived: number
  /** Packets sent to peers: relayed from the other leg (and echoed on echo tests). */
  packetsSent: number
  packetsRejected: number
  /** Packets the operating system refused to send (MediaLegStats.sendFailures). */
  packetsSendFailed: number
  /** RTP legs: packets their sequence numbers said were sent, and how many never arrived. */
  packetsExpected: number
  packetsLost: number
  /** Interarrival jitter of each open RTP leg receiving media, in ms. */
  jitterMs: number[]
}

/**
 * The jitter of RTP legs closed since the exporter last took it, in ms (a histogram per call
 * leg). Bounded: an exporter that never takes them must not grow this forever.
 */
export class ClosedJitter {
  #values: number[] = []

  add(jitterMs: number) {
    if (this.#values.length < 10_000) this.#values.push(jitterMs)
  }

  take(): number[] {
    const taken = this.#values
    this.#values = []
    return taken
  }
}

/**
 * Counters of the media engine of one process, for whoever exports them (the app's /metrics):
 * the open legs are read when asked, closed legs add what they counted to the totals.
 */
export default class MediaEngineStats {
  readonly #open = new Set<CountedLeg>()
  #closed = {
    packetsReceived: 0,
    packetsSent: 0,
    packetsRejected: 0,
    sendFailures: 0,
    expected: 0,
    lost: 0,
  }
  #closedJitter = new ClosedJitter()
  bridges = 0

  opened(leg: CountedLeg) {
    this.#open.add(leg)
  }

  closed(leg: CountedLeg) {
    if (!this.#open.delete(leg)) return
    this.#closed.packetsReceived += leg.stats.packetsReceived
    this.#closed.packetsSent += leg.stats.packetsSent
    this.#closed.packetsRejected += leg.stats.packetsRejected
    this.#closed.sendFailures += leg.stats.sendFailures
    if (leg.reception) {
      this.#closed.expected += leg.reception.expected
      this.#closed.lost += leg.reception.lost
      if (leg.reception.expected > 0) this.#closedJitter.add(leg.reception.jitterMs)
    }
  }

  /** Jitter of the RTP legs closed since the last call, in ms (for a histogram per call leg). */
  takeClosedJitter(): number[] {
    return this.#closedJitter.take()
  }

  figures(): MediaEngineFigures {
    const figures: MediaEngineFigures = {
      legs: { rtp: 0, webrtc: 0 },
      bridges: this.bridges,
      packetsReceived: this.#closed.packetsReceived,
      packetsSent: this.#closed.packetsSent,
      packetsRejected: this.#closed.packetsRejected,
      packetsSendFailed: this.#closed.sendFailures,
      packetsExpected: this.#closed.expected,
      packetsLost: this.#closed.lost,
      jitterMs: [],
    }
    for (const leg of this.#open) {
      figures.legs[leg.kind]++
      figures.packetsReceived += leg.stats.packetsReceived
      figures.packetsSent += leg.stats.packetsSent
      figures.packetsRejected += leg.stats.packetsRejected
      figures.packetsSendFailed += leg.stats.sendFailures
      if (leg.reception) {
        figures.packetsExpected += leg.reception.expected
        figures.packetsLost += leg.reception.lost
        if (leg.reception.expected > 0) figures.jitterMs.push(leg.reception.jitterMs)
      }
    }
    return figures
  }
}
