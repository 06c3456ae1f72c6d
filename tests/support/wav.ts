/** A WAV file of 16-bit samples (the product's writer; `format` makes files to refuse). */
export { wavBytes as wavFile } from '#media/announcement'

/** `seconds` of a sine at `frequencyHz`, 8 kHz, at a third of full scale. */
export function sineSamples(frequencyHz: number, seconds: number): Int16Array {
  const samples = new Int16Array(Math.round(seconds * 8000))
  for (let i = 0; i < samples.length; i++)
    samples[i] = Math.round(10_000 * Math.sin((2 * Math.PI * frequencyHz * i) / 8000))
  return samples
}
