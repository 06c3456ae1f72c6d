/**
 * Call quality from WebRTC statistics: packet loss, jitter and round trip over the last interval,
 * and a MOS estimate by the usual simplification of the ITU-T G.107 E-model for G.711.
 */

/** Counters read from one getStats() report (cumulative, as WebRTC reports them). */
export interface StatsSample {
  packetsReceived: number
  packetsLost: number
  /** Seconds, as inbound-rtp reports it. */
  jitter: number | null
  /** Seconds: remote-inbound-rtp's, else the selected candidate pair's. */
  roundTripTime: number | null
}

export type QualityGrade = 'good' | 'fair' | 'poor'

export interface CallQuality {
  lossPercent: number
  jitterMs: number
  rttMs: number
  mos: number
  grade: QualityGrade
}

/** The statistics objects we read; the DOM's RTCStats types are looser than what Chromium sends. */
export interface StatsEntry {
  type: string
  kind?: string
  mediaType?: string
  packetsReceived?: number
  packetsLost?: number
  jitter?: number
  roundTripTime?: number
  currentRoundTripTime?: number
  nominated?: boolean
  state?: string
}

/** Reads the audio receive counters and round trip out of a getStats() report. */
export function readSample(report: {
  forEach(callback: (entry: StatsEntry) => void): void
}): StatsSample {
  const sample: StatsSample = {
    packetsReceived: 0,
    packetsLost: 0,
    jitter: null,
    roundTripTime: null,
  }
  let pairRtt: number | null = null
  report.forEach((entry) => {
    const audio = (entry.kind ?? entry.mediaType) === 'audio'
    if (entry.type === 'inbound-rtp' && audio) {
      sample.packetsReceived += entry.packetsReceived ?? 0
      sample.packetsLost += Math.max(0, entry.packetsLost ?? 0)
      if (typeof entry.jitter === 'number')
        sample.jitter = Math.max(sample.jitter ?? 0, entry.jitter)
    } else if (
      entry.type === 'remote-inbound-rtp' &&
      audio &&
      typeof entry.roundTripTime === 'number'
    ) {
      sample.roundTripTime = entry.roundTripTime
    } else if (entry.type === 'candidate-pair' && entry.nominated && entry.state === 'succeeded') {
      if (typeof entry.currentRoundTripTime === 'number') pairRtt = entry.currentRoundTripTime
    }
  })
  sample.roundTripTime ??= pairRtt
  return sample
}

/**
 * Simplified E-model: effective latency = one-way delay + 2 × jitter + 10 ms codec delay;
 * R = 93.2 − latency penalty − 2.5 × loss %; MOS = 1 + 0.035 R + 7·10⁻⁶ R (R − 60)(100 − R).
 */
export function estimateMos(lossPercent: number, jitterMs: number, rttMs: number): number {
  const effectiveLatency = rttMs / 2 + jitterMs * 2 + 10
  const latencyPenalty =
    effectiveLatency < 160 ? effectiveLatency / 40 : (effectiveLatency - 120) / 10
  const r = Math.min(100, Math.max(0, 93.2 - latencyPenalty - 2.5 * lossPercent))
  const mos = 1 + 0.035 * r + 0.000007 * r * (r - 60) * (100 - r)
  return Math.round(Math.min(4.5, Math.max(1, mos)) * 100) / 100
}

export function gradeOf(mos: number): QualityGrade {
  if (mos >= 4) return 'good'
  if (mos >= 3.6) return 'fair'
  return 'poor'
}

/** Quality over the interval between two samples (loss of this interval, not of the whole call). */
export function assessQuality(previous: StatsSample | null, current: StatsSample): CallQuality {
  const received = current.packetsReceived - (previous?.packetsReceived ?? 0)
  const lost = current.packetsLost - (previous?.packetsLost ?? 0)
  const expected = received + Math.max(0, lost)
  const lossPercent = expected > 0 ? (Math.max(0, lost) / expected) * 100 : 0
  const jitterMs = (current.jitter ?? 0) * 1000
  const rttMs = (current.roundTripTime ?? 0) * 1000
  const mos = estimateMos(lossPercent, jitterMs, rttMs)
  return {
    lossPercent: Math.round(lossPercent * 10) / 10,
    jitterMs: Math.round(jitterMs),
    rttMs: Math.round(rttMs),
    mos,
    grade: gradeOf(mos),
  }
}
