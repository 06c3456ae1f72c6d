import { test } from '@japa/runner'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  AnnouncementFileError,
  announcementFrames,
  readAnnouncement,
  wavHeader,
  wavSamples,
} from '#media/announcement'
import { g711Decoder, linearToMulaw, toneShare } from '#media/tone'
import { sineSamples, wavFile } from '#tests/support/wav'

test.group('Media: recorded announcements (WAV, 16-bit PCM, 8 kHz, mono)', () => {
  test('reads the samples of a WAV file, also past chunks it does not know', ({ assert }) => {
    const samples = [0, 1000, -1000, 32767, -32768]
    assert.deepEqual([...wavSamples(wavFile(samples))], samples)
    // A LIST chunk between fmt and data (sox writes one), of odd length: padded to even
    const plain = wavFile(samples)
    const list = Buffer.concat([
      Buffer.from('LIST'),
      Buffer.from([3, 0, 0, 0]),
      Buffer.from('abc\0'),
    ])
    const withList = Buffer.concat([plain.subarray(0, 36), list, plain.subarray(36)])
    assert.deepEqual([...wavSamples(withList)], samples)
    // A writer that never closed the file left the data size at 0: what is there is read
    const unclosed = wavFile(samples)
    unclosed.writeUInt32LE(0, 40)
    assert.deepEqual([...wavSamples(unclosed)], samples)
  })

  test('refuses what is not 16-bit PCM, 8 kHz, mono, and says what the file is', ({ assert }) => {
    const refusal = (file: Buffer) => {
      try {
        wavSamples(file, 'closed.wav')
      } catch (error) {
        assert.instanceOf(error, AnnouncementFileError)
        return (error as Error).message
      }
      return 'accepted'
    }
    assert.include(refusal(wavFile([1, 2], { rate: 16000 })), '16000 Hz')
    assert.include(refusal(wavFile([1, 2], { channels: 2 })), '2 channels')
    assert.include(refusal(wavFile([1, 2], { code: 6, bits: 8 })), 'format 6, 8-bit')
    assert.include(refusal(Buffer.from('ID3\u0003 an mp3 file')), 'not a WAV file')
    assert.include(refusal(wavHeader(0)), 'holds no audio')
    assert.include(refusal(wavHeader(0).subarray(0, 36)), 'no data chunk')
    const dataFirst = Buffer.concat([wavHeader(4).subarray(0, 12), wavHeader(4).subarray(36)])
    assert.include(refusal(Buffer.concat([dataFirst, Buffer.alloc(4)])), 'no format')
  })

  test('frames of 20 ms in the leg’s G.711, the last one filled up with silence', ({ assert }) => {
    const samples = sineSamples(1000, 0.05)
    const frames = announcementFrames(samples, 'PCMU')
    assert.deepEqual(
      frames.map((frame) => frame.length),
      [160, 160, 160]
    )
    assert.isAbove(toneShare(frames[0], 'PCMU', 1000), 0.9)
    assert.deepEqual([...frames[2].subarray(80)], new Array(80).fill(linearToMulaw(0)))
    const decode = g711Decoder('PCMA')
    const alaw = announcementFrames(samples, 'PCMA')
    assert.closeTo(decode(alaw[0][2]), samples[2], 300)
  })

  test('reads an announcement from its path; a missing file is named in the error', async ({
    assert,
  }) => {
    const directory = mkdtempSync(join(tmpdir(), 'announcement-'))
    try {
      const path = join(directory, 'closed.wav')
      writeFileSync(path, wavFile(sineSamples(440, 0.1)))
      assert.lengthOf(await readAnnouncement({ path }), 800)
      await assert.rejects(
        () => readAnnouncement({ path: join(directory, 'missing.wav') }),
        /missing\.wav cannot be read/
      )
    } finally {
      rmSync(directory, { recursive: true, force: true })
    }
  })
})
