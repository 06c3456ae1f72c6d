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

/** The figures that only grow: what ended legs (or workers) leave to the totals. */
export type CumulativeFigures = Omit<MediaEngineFigures, 'legs' | 'bridges' | 'jitterMs'>

export function noFigures(): CumulativeFigures {
  return {
    packetsReceived: 0,
    packetsSent: 0,
    packetsRejected: 0,
    packetsSendFailed: 0,
    packetsExpected: 0,
    packetsLost: 0,
  }
}

/** Adds `more` to `into`, counter by counter. */
export function addFigures(into: CumulativeFigures, more: CumulativeFigures) {
  into.packetsReceived += more.packetsReceived
  into.packetsSent += more.packetsSent
  into.packetsRejected += more.packetsRejected
  into.packetsSendFailed += more.packetsSendFailed
  into.packetsExpected += more.packetsExpected
  into.packetsLost += more.packetsLost
}

/** Adds one leg's counters to `into`, as the engine's figures name them. */
function addLeg(into: CumulativeFigures, { stats, reception }: CountedLeg) {
  into.packetsReceived += stats.packetsReceived
  into.packetsSent += stats.packetsSent
  into.packetsRejected += stats.packetsRejected
  into.packetsSendFailed += stats.sendFailures
  if (reception) {
    into.packetsExpected += reception.expected
    into.packetsLost += reception.lost
  }
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
  #closed = noFigures()
  #closedJitter = new ClosedJitter()
  bridges = 0

  opened(leg: CountedLeg) {
    this.#open.add(leg)
  }

  closed(leg: CountedLeg) {
    if (!this.#open.delete(leg)) return
    addLeg(this.#closed, leg)
    if (leg.reception && leg.reception.expected > 0) this.#closedJitter.add(leg.reception.jitterMs)
  }

  /** Jitter of the RTP legs closed since the last call, in ms (for a histogram per call leg). */
  takeClosedJitter(): number[] {
    return this.#closedJitter.take()
  }

  figures(): MediaEngineFigures {
    const figures: MediaEngineFigures = {
      legs: { rtp: 0, webrtc: 0 },
      bridges: this.bridges,
      ...this.#closed,
      jitterMs: [],
    }
    for (const leg of this.#open) {
      figures.legs[leg.kind]++
      addLeg(figures, leg)
      if (leg.reception && leg.reception.expected > 0) figures.jitterMs.push(leg.reception.jitterMs)
    }
    return figures
  }
}
