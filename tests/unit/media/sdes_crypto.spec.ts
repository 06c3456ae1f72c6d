import { test } from '@japa/runner'
import { inspect } from 'node:util'
import { buildAudioSdp, parseAudioSdp } from '#media/sdp/audio_sdp'
import {
  cryptoAttribute,
  parseCryptoAttribute,
  SdesKey,
  type CryptoLineResult,
} from '#media/sdp/sdes_crypto'
import { MediaNegotiationError } from '#media/types'

/** 16-byte key + 14-byte salt, recognisable bytes. */
const KEY_SALT = Buffer.from(Array.from({ length: 30 }, (_, i) => i + 1))
const INLINE = KEY_SALT.toString('base64')
/** RFC 4568 §4's example key (30 bytes). */
const RFC_INLINE = 'PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR'

function ok(result: CryptoLineResult) {
  if (!result.ok) throw new Error(`expected a usable line, got: ${result.rejection.reason}`)
  return result.crypto
}

function reason(result: CryptoLineResult) {
  if (result.ok) throw new Error('expected the line to be rejected')
  return result.rejection.reason
}

function sdpWith(protocol: string, cryptoLines: string[]) {
  return [
    'v=0',
    'o=carrier 1 1 IN IP4 192.0.2.10',
    's=-',
    'c=IN IP4 192.0.2.10',
    't=0 0',
    `m=audio 30000 ${protocol} 8 96`,
    'a=rtpmap:96 telephone-event/8000',
    ...cryptoLines.map((line) => `a=${line}`),
    '',
  ].join('\r\n')
}

test.group('SDES crypto attributes (RFC 4568)', () => {
  test('reads tag, suite, key and salt of an inline key', ({ assert }) => {
    const crypto = ok(parseCryptoAttribute(`1 AES_CM_128_HMAC_SHA1_80 inline:${INLINE}`))
    assert.equal(crypto.tag, 1)
    assert.equal(crypto.suite, 'AES_CM_128_HMAC_SHA1_80')
    assert.isTrue(crypto.key.masterKey.equals(KEY_SALT.subarray(0, 16)))
    assert.isTrue(crypto.key.masterSalt.equals(KEY_SALT.subarray(16)))
    assert.isNull(crypto.lifetime)
    assert.isNull(crypto.mki)

    const rfc = ok(parseCryptoAttribute(`1 AES_CM_128_HMAC_SHA1_32 inline:${RFC_INLINE}|2^20|1:32`))
    assert.equal(rfc.suite, 'AES_CM_128_HMAC_SHA1_32')
    assert.equal(rfc.lifetime, 2 ** 20)
    assert.equal(rfc.mki!.length, 32)
    assert.equal(rfc.mki![31], 1)
    assert.isTrue(rfc.mki!.subarray(0, 31).equals(Buffer.alloc(31)))
  })

  test('lifetime as 2^n or a decimal count, MKI alone or after it', ({ assert }) => {
    assert.equal(
      ok(parseCryptoAttribute(`7 AES_CM_128_HMAC_SHA1_80 inline:${INLINE}|2^31`)).lifetime,
      2 ** 31
    )
    assert.equal(
      ok(parseCryptoAttribute(`7 AES_CM_128_HMAC_SHA1_80 inline:${INLINE}|1048576`)).lifetime,
      1048576
    )
    assert.equal(
      ok(parseCryptoAttribute(`7 AES_CM_128_HMAC_SHA1_80 inline:${INLINE}|2^48`)).lifetime,
      2 ** 48
    )
    const mkiOnly = ok(parseCryptoAttribute(`7 AES_CM_128_HMAC_SHA1_80 inline:${INLINE}|258:2`))
    assert.isNull(mkiOnly.lifetime)
    assert.deepEqual([...mkiOnly.mki!], [1, 2])
    assert.deepEqual(
      [...ok(parseCryptoAttribute(`7 AES_CM_128_HMAC_SHA1_80 inline:${INLINE}|2^20|5:4`)).mki!],
      [0, 0, 0, 5]
    )
  })

  test('GCM (RFC 7714) with a 28-byte key||salt, padded or not', ({ assert }) => {
    const gcm = Buffer.alloc(28, 7).toString('base64')
    assert.isTrue(gcm.endsWith('='))
    assert.equal(
      ok(parseCryptoAttribute(`3 AEAD_AES_128_GCM inline:${gcm}`)).key.masterSalt.length,
      12
    )
    assert.equal(
      ok(parseCryptoAttribute(`3 AEAD_AES_128_GCM inline:${gcm.replace(/=+$/, '')}`)).suite,
      'AEAD_AES_128_GCM'
    )
    assert.match(
      reason(parseCryptoAttribute(`3 AEAD_AES_128_GCM inline:${INLINE}`)),
      /30 bytes, AEAD_AES_128_GCM needs 28/
    )
  })

  test('malformed inline keys are rejected with a reason that does not quote the key', ({
    assert,
  }) => {
    const cases: [string, RegExp][] = [
      [
        `AES_CM_128_HMAC_SHA1_80 inline:${INLINE.slice(0, 36)}`,
        /has 27 bytes, AES_CM_128_HMAC_SHA1_80 needs 30/,
      ],
      [`AES_CM_128_HMAC_SHA1_80 inline:${INLINE}AAAA`, /has 33 bytes/],
      [`AES_CM_128_HMAC_SHA1_80 inline:${INLINE.slice(0, 39)}!`, /not valid base64/],
      [
        `AES_CM_128_HMAC_SHA1_80 inline:${INLINE.slice(0, 20)}-_${INLINE.slice(22)}`,
        /not valid base64/,
      ],
      [`AES_CM_128_HMAC_SHA1_80 inline:${INLINE.slice(0, 38)}=A`, /not valid base64/],
      // The last character carries bits that base64 decoding would silently drop
      [
        `AES_CM_128_HMAC_SHA1_80 inline:${Buffer.alloc(28).toString('base64').slice(0, 37)}B`,
        /not valid base64/,
      ],
      ['AES_CM_128_HMAC_SHA1_80 inline:', /not valid base64/],
      [`AES_CM_128_HMAC_SHA1_80 key:${INLINE}`, /only the inline key method/],
      [`AES_CM_128_HMAC_SHA1_80 inline:${INLINE};inline:${INLINE}`, /several master keys/],
      [`AES_CM_128_HMAC_SHA1_80 inline:${INLINE}|`, /lifetime is malformed/],
      [`AES_CM_128_HMAC_SHA1_80 inline:${INLINE}|2^49`, /above 2\^48/],
      [`AES_CM_128_HMAC_SHA1_80 inline:${INLINE}|0`, /lifetime is malformed/],
      [`AES_CM_128_HMAC_SHA1_80 inline:${INLINE}|2^x`, /lifetime is malformed/],
      [`AES_CM_128_HMAC_SHA1_80 inline:${INLINE}|1:0`, /MKI is malformed/],
      [`AES_CM_128_HMAC_SHA1_80 inline:${INLINE}|1:129`, /MKI is malformed/],
      [`AES_CM_128_HMAC_SHA1_80 inline:${INLINE}|256:1`, /MKI is malformed/],
      [`AES_CM_128_HMAC_SHA1_80 inline:${INLINE}|1:4|2^20`, /lifetime, then the MKI/],
      [`AES_CM_128_HMAC_SHA1_80 inline:${INLINE}|2^20|2^20`, /lifetime, then the MKI/],
      [`AES_CM_128_HMAC_SHA1_80 inline:${INLINE}|2^20|1:4|x`, /too many/],
    ]
    for (const [line, expected] of cases) {
      const why = reason(parseCryptoAttribute(`1 ${line}`))
      assert.match(why, expected, line)
      assert.notInclude(why, INLINE.slice(0, 8), 'the reason never quotes key material')
    }
  })

  test('unknown and unsupported suites, session parameters and tags', ({ assert }) => {
    assert.match(
      reason(parseCryptoAttribute(`1 FANCY_CIPHER_9000 inline:${INLINE}`)),
      /unknown crypto suite FANCY_CIPHER_9000/
    )
    assert.match(
      reason(parseCryptoAttribute(`1 F8_128_HMAC_SHA1_80 inline:${INLINE}`)),
      /F8_128_HMAC_SHA1_80 is not supported/
    )
    assert.match(
      reason(parseCryptoAttribute(`1 AES_256_CM_HMAC_SHA1_80 inline:${INLINE}`)),
      /is not supported/
    )
    assert.match(
      reason(parseCryptoAttribute(`1 AES-CM inline:${INLINE}`)),
      /suite name is malformed/
    )
    assert.match(
      reason(parseCryptoAttribute('1 AES_CM_128_HMAC_SHA1_80')),
      /key parameters are required/
    )
    assert.match(reason(parseCryptoAttribute(`x AES_CM_128_HMAC_SHA1_80 inline:${INLINE}`)), /tag/)
    assert.match(
      reason(parseCryptoAttribute(`1234567890 AES_CM_128_HMAC_SHA1_80 inline:${INLINE}`)),
      /tag/
    )
    assert.equal(
      ok(parseCryptoAttribute(`123456789 AES_CM_128_HMAC_SHA1_80 inline:${INLINE}`)).tag,
      123456789
    )
    // Session parameters: a hint and UNENCRYPTED_SRTCP (honoured) are fine; the rest change the transform
    assert.isTrue(
      ok(
        parseCryptoAttribute(`1 AES_CM_128_HMAC_SHA1_80 inline:${INLINE} WSH=64 UNENCRYPTED_SRTCP`)
      ).unencryptedSrtcp
    )
    assert.isUndefined(
      ok(parseCryptoAttribute(`1 AES_CM_128_HMAC_SHA1_80 inline:${INLINE} WSH=64`)).unencryptedSrtcp
    )
    for (const param of [
      'KDR=1',
      'UNENCRYPTED_SRTP',
      'UNAUTHENTICATED_SRTP',
      'FEC_ORDER=FEC_SRTP',
      'FOO=bar',
    ]) {
      assert.match(
        reason(parseCryptoAttribute(`1 AES_CM_128_HMAC_SHA1_80 inline:${INLINE} ${param}`)),
        /session parameter .* is not supported/,
        param
      )
    }
  })

  test('our keys: fresh per call of generate, written as RFC 4568 inline, redacted in logs', ({
    assert,
  }) => {
    const key = SdesKey.generate('AES_CM_128_HMAC_SHA1_80')
    const attribute = cryptoAttribute(1, key)
    assert.match(attribute, /^crypto:1 AES_CM_128_HMAC_SHA1_80 inline:[A-Za-z0-9+/]{40}$/)
    const parsed = ok(parseCryptoAttribute(attribute.slice('crypto:'.length)))
    assert.isTrue(parsed.key.equals(key))
    assert.isFalse(SdesKey.generate('AES_CM_128_HMAC_SHA1_80').equals(key))

    const inline = key.toInline()
    for (const shown of [
      inspect(key),
      inspect({ parsed }, { depth: 10 }),
      JSON.stringify({ parsed }),
      String(key),
    ]) {
      assert.notInclude(shown, inline)
      assert.notInclude(shown, key.masterKey.toString('hex'))
      assert.notInclude(shown, inline.slice(0, 12))
    }
    assert.throws(
      () => new SdesKey('AES_CM_128_HMAC_SHA1_80', Buffer.alloc(16), Buffer.alloc(12)),
      /14-byte salt/
    )
  })

  test('the SDP parser collects usable lines and the reasons for the others', ({ assert }) => {
    const description = parseAudioSdp(
      sdpWith('RTP/SAVP', [
        `crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${INLINE.slice(0, 30)}`,
        `crypto:2 AES_CM_128_HMAC_SHA1_32 inline:${INLINE}|2^31`,
        `crypto:3 NULL_CIPHER inline:${INLINE}`,
        `crypto:2 AES_CM_128_HMAC_SHA1_80 inline:${INLINE}`,
      ])
    )
    assert.equal(description.protocol, 'RTP/SAVP')
    assert.isTrue(description.hasCrypto)
    assert.deepEqual(
      description.crypto.map((entry) => [entry.tag, entry.suite]),
      [[2, 'AES_CM_128_HMAC_SHA1_32']]
    )
    assert.deepEqual(
      description.cryptoRejected.map((entry) => entry.tag),
      [1, 3, 2]
    )
    assert.match(description.cryptoRejected[2].reason, /used twice/)

    const many = parseAudioSdp(
      sdpWith(
        'RTP/SAVP',
        Array.from(
          { length: 40 },
          (_, i) => `crypto:${i + 1} AES_CM_128_HMAC_SHA1_80 inline:${INLINE}`
        )
      )
    )
    assert.equal(many.crypto.length, 16)

    // A crypto line outside the audio section is not the audio stream's
    const video = parseAudioSdp(
      sdpWith('RTP/AVP', []) +
        `m=video 30002 RTP/SAVP 96\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${INLINE}\r\n`
    )
    assert.isFalse(video.hasCrypto)
    assert.lengthOf(video.crypto, 0)

    // A broken line is quoted in the 488 reason, but not its key
    const error = (() => {
      try {
        parseAudioSdp(sdpWith('RTP/SAVP', []) + `a crypto:1 X inline:${INLINE}\r\n`)
      } catch (caught) {
        return caught as Error
      }
    })()
    assert.instanceOf(error, MediaNegotiationError)
    assert.notInclude(error!.message, INLINE.slice(0, 8))
  })

  test('builds RTP/SAVP with our crypto lines, plain RTP/AVP without', ({ assert }) => {
    const input = {
      sessionId: '1',
      version: 0,
      address: '198.51.100.7',
      port: 45000,
      audio: [{ codec: 'PCMA' as const, payloadType: 8 }],
      dtmfPayloadType: 101,
      direction: 'sendrecv' as const,
    }
    const key = SdesKey.generate('AES_CM_128_HMAC_SHA1_80')
    const secure = buildAudioSdp({ ...input, crypto: [cryptoAttribute(1, key)] })
    assert.include(secure, 'm=audio 45000 RTP/SAVP 8 101\r\n')
    assert.include(secure, `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${key.toInline()}\r\n`)
    const parsed = parseAudioSdp(secure)
    assert.isTrue(parsed.crypto[0].key.equals(key))
    assert.include(buildAudioSdp(input), 'm=audio 45000 RTP/AVP 8 101\r\n')
    assert.notInclude(buildAudioSdp({ ...input, crypto: [] }), 'SAVP')
  })
})
