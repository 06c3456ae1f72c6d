import type { G711CodecName } from '#media/types'

/**
 * Tones the server plays into a call itself (the warning before a call's maximum duration): a
 * pattern of beeps generated as 8 kHz G.711 frames of 20 ms, in the codec the leg negotiated, so
 * they go out through the same path as relayed audio and nothing is ever transcoded.
 */

export interface TonePattern {
  /** Frequency of the beeps in Hz (below 4,000: 8 kHz sampling). */
  frequencyHz: number
  beeps: number
  /** Each beep sounds this long, then this long of silence follows (multiples of 20 ms). */
  onMs: number
  offMs: number
  /** Level in dBm0 (3.14 dBm0 is the full scale of G.711). */
  levelDbm0: number
}

/** Three short beeps of 1 kHz: the call ends soon. */
export const WARNING_TONE: TonePattern = {
  frequencyHz: 1000,
  beeps: 3,
  onMs: 200,
  offMs: 200,
  levelDbm0: -12,
}

export const SAMPLE_RATE = 8000
/** Samples (and bytes of G.711) per 20 ms frame. */
export const FRAME_SAMPLES = 160
const FRAME_MS = 20
/** A sine at 0 dBm0 has this peak amplitude on the 16-bit scale (G.711: 3.14 dBm0 is 32767). */
const ZERO_DBM0_PEAK = 32767 / 10 ** (3.14 / 20)

/** ITU-T G.711 µ-law of a 16-bit linear sample. */
export function linearToMulaw(sample: number): number {
  let value = Math.max(-32768, Math.min(32767, Math.round(sample))) >> 2
  let mask = 0xff
  if (value < 0) {
    value = -value
    mask = 0x7f
  }
  value = Math.min(value, 8159) + 0x21
  let segment = 0
  while (segment < 8 && value >= 0x40 << segment) segment++
  if (segment >= 8) return 0x7f ^ mask
  return (((segment << 4) | ((value >> (segment + 1)) & 0x0f)) ^ mask) & 0xff
}

/** ITU-T G.711 A-law of a 16-bit linear sample. */
export function linearToAlaw(sample: number): number {
  let value = Math.max(-32768, Math.min(32767, Math.round(sample))) >> 3
  let mask = 0xd5
  if (value < 0) {
    mask = 0x55
    value = -value - 1
  }
  let segment = 0
  while (segment < 8 && value >= 0x20 << segment) segment++
  if (segment >= 8) return 0x7f ^ mask
  const mantissa = segment < 2 ? (value >> 1) & 0x0f : (value >> segment) & 0x0f
  return ((segment << 4) | mantissa) ^ mask
}

/** The 16-bit linear value of a µ-law byte. */
export function mulawToLinear(byte: number): number {
  const value = ~byte & 0xff
  const magnitude = ((((value & 0x0f) << 3) + 0x84) << ((value & 0x70) >> 4)) - 0x84
  return value & 0x80 ? -magnitude : magnitude
}

/** The 16-bit linear value of an A-law byte. */
export function alawToLinear(byte: number): number {
  const value = byte ^ 0x55
  const segment = (value & 0x70) >> 4
  let magnitude = ((value & 0x0f) << 4) + (segment === 0 ? 8 : 0x108)
  if (segment > 1) magnitude <<= segment - 1
  return value & 0x80 ? magnitude : -magnitude
}

export function g711Encoder(codec: G711CodecName): (sample: number) => number {
  return codec === 'PCMU' ? linearToMulaw : linearToAlaw
}

export function g711Decoder(codec: G711CodecName): (byte: number) => number {
  return codec === 'PCMU' ? mulawToLinear : alawToLinear
}

/** The pattern's 20 ms frames in `codec`: the beeps with their silences, the last silence too. */
export function toneFrames(pattern: TonePattern, codec: G711CodecName): Buffer[] {
  if (!(pattern.frequencyHz > 0 && pattern.frequencyHz < SAMPLE_RATE / 2))
    throw new RangeError('The tone frequency must be between 0 and 4,000 Hz')
  if (pattern.onMs % FRAME_MS || pattern.offMs % FRAME_MS || pattern.onMs <= 0)
    throw new RangeError('Beeps and silences are whole 20 ms frames')
  const encode = g711Encoder(codec)
  const silence = encode(0)
  const peak = ZERO_DBM0_PEAK * 10 ** (pattern.levelDbm0 / 20)
  const step = (2 * Math.PI * pattern.frequencyHz) / SAMPLE_RATE
  const frames: Buffer[] = []
  for (let beep = 0; beep < pattern.beeps; beep++) {
    // Each beep starts at phase 0 and ends on whole frames: no click in the middle of a frame
    const onSamples = (pattern.onMs / FRAME_MS) * FRAME_SAMPLES
    for (let start = 0; start < onSamples; start += FRAME_SAMPLES) {
      const frame = Buffer.allocUnsafe(FRAME_SAMPLES)
      for (let i = 0; i < FRAME_SAMPLES; i++) frame[i] = encode(peak * Math.sin(step * (start + i)))
      frames.push(frame)
    }
    for (let ms = 0; ms < pattern.offMs; ms += FRAME_MS)
      frames.push(Buffer.alloc(FRAME_SAMPLES, silence))
  }
  return frames
}

/**
 * The energy of `frequencyHz` in G.711 bytes relative to their whole energy (Goertzel), 0 to 1:
 * near 1 for a beep of that frequency, near 0 for speech, other tones or silence.
 */
export function toneShare(payload: Buffer, codec: G711CodecName, frequencyHz: number): number {
  const decode = g711Decoder(codec)
  const coefficient = 2 * Math.cos((2 * Math.PI * frequencyHz) / SAMPLE_RATE)
  let previous = 0
  let beforePrevious = 0
  let energy = 0
  for (const byte of payload) {
    const sample = decode(byte)
    energy += sample * sample
    const current = sample + coefficient * previous - beforePrevious
    beforePrevious = previous
    previous = current
  }
  if (energy === 0) return 0
  const power =
    previous * previous + beforePrevious * beforePrevious - coefficient * previous * beforePrevious
  // A pure tone over N samples has Goertzel power N²A²/4 and energy NA²/2
  return Math.min(1, (2 * power) / (payload.length * energy))
}
