import { test } from '@japa/runner'
import {
  WARNING_TONE,
  alawToLinear,
  linearToAlaw,
  linearToMulaw,
  mulawToLinear,
  toneFrames,
  toneShare,
} from '#media'

/** RMS of decoded G.711 bytes in dBm0 (a full-scale sine is 3.14 dBm0). */
function levelDbm0(frame: Buffer, decode: (byte: number) => number) {
  let sum = 0
  for (const byte of frame) sum += decode(byte) ** 2
  const rms = Math.sqrt(sum / frame.length)
  return 20 * Math.log10((rms * Math.SQRT2) / 32767) + 3.14
}

test.group('Media: G.711 tone generator', () => {
  test('A-law and µ-law encoders invert the decoders for every code (µ-law has one zero)', ({
    assert,
  }) => {
    for (let byte = 0; byte < 256; byte++) {
      assert.equal(linearToAlaw(alawToLinear(byte)), byte, `A-law ${byte}`)
      if (byte !== 0x7f) assert.equal(linearToMulaw(mulawToLinear(byte)), byte, `µ-law ${byte}`)
    }
    // Silence and the extremes (ITU-T G.711 tables)
    assert.equal(linearToAlaw(0), 0xd5)
    assert.equal(linearToMulaw(0), 0xff)
    assert.equal(linearToMulaw(32767), 0x80)
    assert.equal(linearToMulaw(-32768), 0x00)
    assert.equal(linearToAlaw(32767), 0xaa)
    assert.equal(linearToAlaw(-32768), 0x2a)
    // Monotonic: a louder sample never decodes quieter
    let previous = -Infinity
    for (let sample = -32768; sample <= 32767; sample += 97) {
      const decoded = alawToLinear(linearToAlaw(sample))
      assert.isAtLeast(decoded, previous)
      assert.isBelow(Math.abs(decoded - sample), Math.max(16, Math.abs(sample) / 16) + 1)
      previous = decoded
    }
  })

  for (const codec of ['PCMA', 'PCMU'] as const) {
    test(`the warning tone in ${codec}: three 200 ms beeps of 1 kHz at -12 dBm0, each followed by 200 ms of silence`, ({
      assert,
    }) => {
      const frames = toneFrames(WARNING_TONE, codec)
      const decode = codec === 'PCMA' ? alawToLinear : mulawToLinear
      const silence = codec === 'PCMA' ? 0xd5 : 0xff
      assert.lengthOf(frames, 3 * (10 + 10))
      frames.forEach((frame, index) => {
        assert.equal(frame.length, 160)
        const beep = index % 20 < 10
        if (beep) {
          assert.isAbove(toneShare(frame, codec, 1000), 0.9, `frame ${index} is the 1 kHz beep`)
          assert.isBelow(toneShare(frame, codec, 1400), 0.05)
          assert.closeTo(levelDbm0(frame, decode), -12, 0.5)
        } else {
          assert.isTrue(
            frame.every((byte) => byte === silence),
            `frame ${index} is silence`
          )
          assert.equal(toneShare(frame, codec, 1000), 0)
        }
      })
    })
  }

  test('patterns that cannot be played as whole frames are refused', ({ assert }) => {
    assert.throws(() => toneFrames({ ...WARNING_TONE, onMs: 210 }, 'PCMA'), /20 ms/)
    assert.throws(() => toneFrames({ ...WARNING_TONE, frequencyHz: 4000 }, 'PCMA'), /frequency/)
  })
})
