import { wavHeader } from '#media/announcement'

/**
 * A WAV file of 16-bit linear PCM samples (little-endian); `format` overrides the header's fields
 * to make files a reader must refuse.
 */
export function wavFile(
  samples: ArrayLike<number>,
  format: { rate?: number; channels?: number; bits?: number; code?: number } = {}
): Buffer {
  const data = Buffer.alloc(samples.length * 2)
  for (let i = 0; i < samples.length; i++) data.writeInt16LE(samples[i], 2 * i)
  return Buffer.concat([wavHeader(data.length, format), data])
}

/** `seconds` of a sine at `frequencyHz`, 8 kHz, at a third of full scale. */
export function sineSamples(frequencyHz: number, seconds: number): Int16Array {
  const samples = new Int16Array(Math.round(seconds * 8000))
  for (let i = 0; i < samples.length; i++)
    samples[i] = Math.round(10_000 * Math.sin((2 * Math.PI * frequencyHz * i) / 8000))
  return samples
}
