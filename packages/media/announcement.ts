import { readFile } from 'node:fs/promises'
import { FRAME_SAMPLES, SAMPLE_RATE, g711Encoder } from '#media/tone'
import type { Announcement, G711CodecName } from '#media/types'

/** A file that is no announcement we can play; the message says what is wrong with it. */
export class AnnouncementFileError extends Error {}

const MAX_SAMPLES = 10 * 60 * SAMPLE_RATE

/** The samples of a WAV file's data chunk, checked to be 16-bit PCM, 8 kHz, mono. */
export function wavSamples(file: Buffer, name = 'the announcement'): Int16Array {
  if (file.length < 12 || file.toString('latin1', 0, 4) !== 'RIFF') {
    throw new AnnouncementFileError(`${name} is not a WAV file (no RIFF header)`)
  }
  if (file.toString('latin1', 8, 12) !== 'WAVE')
    throw new AnnouncementFileError(`${name} is not a WAV file (no WAVE form)`)
  let format: { code: number; channels: number; rate: number; bits: number } | null = null
  // Chunks after the 12-byte header: id, size, data (padded to an even length)
  for (let at = 12; at + 8 <= file.length;) {
    const id = file.toString('latin1', at, at + 4)
    const size = file.readUInt32LE(at + 4)
    const body = at + 8
    if (body + size > file.length && id !== 'data')
      throw new AnnouncementFileError(`${name} is cut off in its ${id} chunk`)
    if (id === 'fmt ' && size >= 16) {
      format = {
        code: file.readUInt16LE(body),
        channels: file.readUInt16LE(body + 2),
        rate: file.readUInt32LE(body + 4),
        bits: file.readUInt16LE(body + 14),
      }
    } else if (id === 'data') {
      if (!format) throw new AnnouncementFileError(`${name} has no format before its audio`)
      const { code, channels, rate, bits } = format
      // 0xfffe (WAVE_FORMAT_EXTENSIBLE) is what sox writes for some PCM files
      if (
        (code !== 1 && code !== 0xfffe) ||
        bits !== 16 ||
        channels !== 1 ||
        rate !== SAMPLE_RATE
      ) {
        throw new AnnouncementFileError(
          `${name} must be 16-bit PCM, 8,000 Hz, mono (it is format ${code}, ${bits}-bit, ` +
            `${rate} Hz, ${channels} channel${channels === 1 ? '' : 's'})`
        )
      }
      // A writer that never closed its file leaves the size at 0 or too large: take what is there
      const end = size === 0 || body + size > file.length ? file.length : body + size
      const count = Math.floor((end - body) / 2)
      if (count === 0) throw new AnnouncementFileError(`${name} holds no audio`)
      if (count > MAX_SAMPLES) throw new AnnouncementFileError(`${name} is longer than 10 minutes`)
      const samples = new Int16Array(count)
      for (let i = 0; i < count; i++) samples[i] = file.readInt16LE(body + 2 * i)
      return samples
    }
    at = body + size + (size & 1)
  }
  throw new AnnouncementFileError(`${name} holds no audio (no data chunk)`)
}

/** Reads and checks an announcement's file. */
export async function readAnnouncement(announcement: Announcement): Promise<Int16Array> {
  let file: Buffer
  try {
    file = await readFile(announcement.path)
  } catch (error) {
    throw new AnnouncementFileError(`The announcement ${announcement.path} cannot be read`, {
      cause: error,
    })
  }
  return wavSamples(file, `The announcement ${announcement.path}`)
}

/** The samples as 20 ms frames in `codec`; the last one filled up with silence. */
export function announcementFrames(samples: Int16Array, codec: G711CodecName): Buffer[] {
  const encode = g711Encoder(codec)
  const silence = encode(0)
  const frames: Buffer[] = []
  for (let start = 0; start < samples.length; start += FRAME_SAMPLES) {
    const frame = Buffer.alloc(FRAME_SAMPLES, silence)
    const end = Math.min(start + FRAME_SAMPLES, samples.length)
    for (let i = start; i < end; i++) frame[i - start] = encode(samples[i])
    frames.push(frame)
  }
  return frames
}

/** The usual 44-byte WAV header (RIFF, fmt, data) for `dataBytes` of audio in `format`. */
export function wavHeader(
  dataBytes: number,
  format: { rate?: number; channels?: number; bits?: number; code?: number } = {}
): Buffer {
  const { rate = SAMPLE_RATE, channels = 1, bits = 16, code = 1 } = format
  const header = Buffer.alloc(44)
  header.write('RIFF', 0, 'latin1')
  header.writeUInt32LE(36 + dataBytes, 4)
  header.write('WAVEfmt ', 8, 'latin1')
  header.writeUInt32LE(16, 16)
  header.writeUInt16LE(code, 20)
  header.writeUInt16LE(channels, 22)
  header.writeUInt32LE(rate, 24)
  header.writeUInt32LE((rate * channels * bits) / 8, 28)
  header.writeUInt16LE((channels * bits) / 8, 32)
  header.writeUInt16LE(bits, 34)
  header.write('data', 36, 'latin1')
  header.writeUInt32LE(dataBytes, 40)
  return header
}

/**
 * 16-bit samples as a WAV file's bytes: by default PCM, 8 kHz, mono (what announcements are);
 * `format` overrides the header's fields (tests make files a reader must refuse).
 */
export function wavBytes(samples: ArrayLike<number>, format: Parameters<typeof wavHeader>[1] = {}) {
  const data = Buffer.alloc(samples.length * 2)
  for (let i = 0; i < samples.length; i++) data.writeInt16LE(samples[i], 2 * i)
  return Buffer.concat([wavHeader(data.length, format), data])
}
