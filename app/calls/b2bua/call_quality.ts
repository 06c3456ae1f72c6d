import type { AudioCodecName, LegQuality } from '#media'

/**
 * A call's quality from what the media engine measured, as kept on the CDR: loss, jitter and
 * round-trip time per side, and a MOS estimate from a simplified E-model (ITU-T G.107).
 *
 * R = 93.2 - Id - Ie_eff (the default values of G.107 for everything not measured: Ro - Is = 93.2,
 * A = 0). Id, the delay impairment, uses the common simplification of Cole and Rosenbluth (2001)
 * of G.107's Idd/Idte/Idle: Id = 0.024 Ta + 0.11 (Ta - 177.3) H(Ta - 177.3), Ta the one-way
 * mouth-to-ear delay in ms. Ie_eff = Ie + (95 - Ie) Ppl / (Ppl / BurstR + Bpl), random loss
 * (BurstR = 1). Codec values from ITU-T G.113 Appendix I: G.711 Ie = 0, Bpl = 4.3 without packet
 * loss concealment and 25.1 with it. Opus is not in G.113: we take Ie = 0 and Bpl = 25.1 like
 * G.711 with PLC (Opus always conceals loss; its in-band FEC does better still), an approximation.
 * MOS = 1 + 0.035 R + R (R - 60) (100 - R) 7e-6 (G.107 Annex B), 1 below R = 0, 4.5 above 100.
 */

export const CODEC_IMPAIRMENT: Record<
  AudioCodecName,
  { ie: number; bplWithPlc: number; bplWithoutPlc: number }
> = {
  PCMU: { ie: 0, bplWithPlc: 25.1, bplWithoutPlc: 4.3 },
  PCMA: { ie: 0, bplWithPlc: 25.1, bplWithoutPlc: 4.3 },
  opus: { ie: 0, bplWithPlc: 25.1, bplWithoutPlc: 25.1 },
}

/** 20 ms packets plus the encoder's look-ahead: a G.711 call's own share of the delay. */
const PACKETISATION_MS = 20
/** A receiver's jitter buffer: at least 40 ms, more when the jitter is higher (twice it). */
const MIN_JITTER_BUFFER_MS = 40

export function delayImpairment(oneWayMs: number): number {
  const ta = Math.max(0, oneWayMs)
  return 0.024 * ta + (ta > 177.3 ? 0.11 * (ta - 177.3) : 0)
}

export function effectiveEquipmentImpairment(lossPercent: number, ie: number, bpl: number) {
  const ppl = Math.max(0, Math.min(100, lossPercent))
  return ie + ((95 - ie) * ppl) / (ppl + bpl)
}

export function mosFromR(r: number): number {
  if (r <= 0) return 1
  if (r >= 100) return 4.5
  return 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6
}

/**
 * The one-way delay the listener hears: packetisation, a jitter buffer, and half the round trips
 * we know of (both legs of the relay; an unknown one counts as 0, so the estimate is optimistic).
 */
export function oneWayDelayMs(jitterMs: number, roundTripsMs: Array<number | null>) {
  const network = roundTripsMs.reduce<number>((sum, rtt) => sum + (rtt ?? 0), 0) / 2
  return PACKETISATION_MS + Math.max(MIN_JITTER_BUFFER_MS, 2 * jitterMs) + network
}

export interface MosInput {
  codec: AudioCodecName
  lossPercent: number
  oneWayDelayMs: number
  /** Whether the listener conceals lost packets (a browser does; a carrier or desk phone: unknown). */
  plc: boolean
}

export function estimateMos(input: MosInput): number {
  const codec = CODEC_IMPAIRMENT[input.codec]
  const bpl = input.plc ? codec.bplWithPlc : codec.bplWithoutPlc
  const r =
    93.2 -
    delayImpairment(input.oneWayDelayMs) -
    effectiveEquipmentImpairment(input.lossPercent, codec.ie, bpl)
  return mosFromR(r)
}

/** What the CDR keeps of the audio coming from one side (as we received it). */
export interface SideQuality {
  lossPercent: number
  jitterMs: number
  rttMs: number | null
  mos: number
}

/** Below this many expected packets (1 s of audio) a side's figures say nothing. */
const MIN_PACKETS = 50

/**
 * The quality of the audio one side sent us, as heard by the other side's listener: our loss
 * and jitter on that side's leg, the delay over both legs. Null when too little audio came.
 */
export function sideQuality(
  from: LegQuality,
  to: { quality: LegQuality; browser: boolean } | null,
  codec: AudioCodecName
): SideQuality | null {
  if (from.packetsExpected < MIN_PACKETS) return null
  const lossPercent = from.lossFraction * 100
  const mos = estimateMos({
    codec,
    lossPercent,
    oneWayDelayMs: oneWayDelayMs(from.jitterMs, [from.rttMs, to?.quality.rttMs ?? null]),
    plc: to?.browser ?? false,
  })
  return {
    lossPercent: round(lossPercent, 2),
    jitterMs: round(from.jitterMs, 1),
    rttMs: from.rttMs === null ? null : round(from.rttMs, 1),
    mos: round(mos, 2),
  }
}

function round(value: number, digits: number) {
  const factor = 10 ** digits
  return Math.round(value * factor) / factor
}

/** The label the call history shows for a MOS: good from 4.0, fair from 3.6 (G.107 Annex B). */
export type QualityLabel = 'good' | 'fair' | 'poor'

export function qualityLabel(mos: number): QualityLabel {
  if (mos >= 4) return 'good'
  if (mos >= 3.6) return 'fair'
  return 'poor'
}
