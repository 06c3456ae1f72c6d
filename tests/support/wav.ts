/** The usual 44-byte WAV header (RIFF, fmt, data) for `dataBytes` of audio in `format`. */
export function wavHeader(
  dataBytes: number,
  format: { rate?: number; channels?: number; bits?: number; code?: number } = {}
): Buffer {
  const { rate = 8000, channels = 1, bits = 16, code = 1 } = format
  const header = Buffer.alloc(44)
  header.write('RIFF', 0, 'latin1')
  header.writeUInt32LE(36 + dataBytes, 4)
  header.write('WAVEfmt ', 8, 'latin1')
  header.writeUInt32LE(16, 16)
  header.writeUInt16LE(code, 20)
  header.writeUInt16LE(channels, 22)
  header.writeUInt32LE((rate * channels * bits) / 8, 28)
  header.writeUInt32LE(rate, 24)
  header.writeUInt16LE((channels * bits) / 8, 32)
  header.writeUInt16LE(bits, 34)
  header.write('data', 36, 'latin1')
  header.writeUInt32LE(dataBytes, 40)
  return header
}

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
