import { test } from '@japa/runner'
import { sdpFacts } from '#media/sdp/sdp_facts'
import {
  bothEncrypted,
  carrierOfferMedia,
  legEncryption,
  phoneOfferMedia,
  phoneTargetMedia,
} from '#calls/b2bua/media_security'

const KEY = Buffer.alloc(30, 7).toString('base64')

/** A desk phone's offer: RTP/AVP or RTP/SAVP with the given a=crypto values. */
function offer(protocol: 'RTP/AVP' | 'RTP/SAVP', crypto: string[] = []) {
  return sdpFacts(
    [
      'v=0',
      'o=- 1 1 IN IP4 192.0.2.10',
      's=-',
      'c=IN IP4 192.0.2.10',
      't=0 0',
      `m=audio 30000 ${protocol} 8 0`,
      ...crypto.map((line) => `a=crypto:${line}`),
      '',
    ].join('\r\n')
  )
}

const WEBRTC = sdpFacts(
  'v=0\r\nt=0 0\r\na=fingerprint:sha-256 AA:BB\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\nc=IN IP4 0.0.0.0\r\n'
)
const SRTP = offer('RTP/SAVP', [`1 AES_CM_128_HMAC_SHA1_80 inline:${KEY}`])
const PLAIN = offer('RTP/AVP')

test.group('Media security: a customer phone calling', () => {
  test('RTP/SAVP with a usable key over TLS gets an SRTP leg', ({ assert }) => {
    assert.deepEqual(phoneOfferMedia('tls', SRTP), { media: 'srtp' })
  })

  test('plain RTP/AVP stays plain over every transport, TLS included (for now)', ({ assert }) => {
    for (const protocol of ['udp', 'tcp', 'tls'] as const)
      assert.deepEqual(phoneOfferMedia(protocol, PLAIN), { media: 'rtp' })
  })

  test('RTP/SAVP over UDP or TCP is refused: the keys would travel in clear signalling', ({
    assert,
  }) => {
    for (const protocol of ['udp', 'tcp'] as const)
      assert.deepEqual(phoneOfferMedia(protocol, SRTP), {
        refuse: 'SRTP keys are accepted over TLS only',
      })
  })

  test('110/112 with RTP/SAVP over UDP or TCP still gets its SRTP leg (§ 164 TKG); unusable keys cannot', ({
    assert,
  }) => {
    assert.deepEqual(phoneOfferMedia('udp', SRTP, true), { media: 'srtp' })
    assert.deepEqual(phoneOfferMedia('tcp', SRTP, true), { media: 'srtp' })
    assert.property(phoneOfferMedia('udp', offer('RTP/SAVP'), true), 'refuse')
  })

  test('a browser is DTLS-SRTP whatever its socket', ({ assert }) => {
    assert.deepEqual(phoneOfferMedia('ws', WEBRTC), { media: 'webrtc' })
    assert.deepEqual(phoneOfferMedia('wss', WEBRTC), { media: 'webrtc' })
  })

  test('garbled or missing a=crypto lines are refused with the reason, never the key', ({
    assert,
  }) => {
    const garbled = phoneOfferMedia(
      'tls',
      offer('RTP/SAVP', [
        '1 AES_CM_128_HMAC_SHA1_80 inline:not*base64',
        `2 AES_CM_128_HMAC_SHA1_80 inline:${KEY.slice(4)}`,
        `3 AES_256_CM_HMAC_SHA1_80 inline:${KEY}`,
        'x',
      ])
    )
    assert.property(garbled, 'refuse')
    const reason = (garbled as { refuse: string }).refuse
    assert.match(reason, /^No usable a=crypto line \(tag 1: the inline key is not valid base64; /)
    assert.include(reason, 'tag 2: the inline key has')
    assert.include(reason, 'tag 3: crypto suite AES_256_CM_HMAC_SHA1_80 is not supported')
    assert.notInclude(reason, KEY.slice(4, 20))
    assert.notMatch(reason, /[\r\n]/)
    assert.deepEqual(phoneOfferMedia('tls', offer('RTP/SAVP')), {
      refuse: 'SRTP offered without an a=crypto line',
    })
  })

  test('GCM (RFC 7714) from a phone is taken', ({ assert }) => {
    const gcm = offer('RTP/SAVP', [
      `1 AEAD_AES_128_GCM inline:${Buffer.alloc(28, 9).toString('base64')}`,
    ])
    assert.deepEqual(phoneOfferMedia('tls', gcm), { media: 'srtp' })
  })
})

test.group('Media security: a carrier calling in', () => {
  test("a carrier with srtp 'sdes' gets an SRTP leg for its RTP/SAVP offer over TLS", ({
    assert,
  }) => {
    assert.deepEqual(carrierOfferMedia('sdes', 'tls', SRTP), { media: 'srtp' })
  })

  test("a plain offer from a carrier with srtp 'sdes' is refused with a reason", ({ assert }) => {
    assert.deepEqual(carrierOfferMedia('sdes', 'tls', PLAIN), {
      refuse: 'This carrier must offer SRTP (RTP/SAVP with a=crypto)',
    })
  })

  test("an 'sdes' carrier's keys over UDP and an unusable crypto line are refused", ({
    assert,
  }) => {
    assert.deepEqual(carrierOfferMedia('sdes', 'udp', SRTP), {
      refuse: 'SRTP keys are accepted over TLS only',
    })
    assert.property(
      carrierOfferMedia('sdes', 'tls', offer('RTP/SAVP', ['1 NULL_CIPHER inline:abc'])),
      'refuse'
    )
  })

  test("a carrier with srtp 'none' stays plain and is refused an RTP/SAVP offer", ({ assert }) => {
    assert.deepEqual(carrierOfferMedia('none', 'udp', PLAIN), { media: 'rtp' })
    assert.deepEqual(carrierOfferMedia('none', 'tls', SRTP), {
      refuse: 'SRTP is not enabled for this carrier',
    })
  })
})

test.group('Media security: calling a registered phone, and the CDR flags', () => {
  test('a phone registered over TLS is offered SRTP; over UDP/TCP plain; a browser WebRTC', ({
    assert,
  }) => {
    assert.equal(phoneTargetMedia('tls'), 'srtp')
    assert.equal(phoneTargetMedia('udp'), 'rtp')
    assert.equal(phoneTargetMedia('tcp'), 'rtp')
    assert.equal(phoneTargetMedia('ws'), 'webrtc')
    assert.equal(phoneTargetMedia('wss'), 'webrtc')
  })

  test('TLS and WSS count as encrypted signalling; SRTP and DTLS-SRTP as encrypted media', ({
    assert,
  }) => {
    assert.deepEqual(legEncryption('tls', 'srtp'), { signalling: true, media: true })
    assert.deepEqual(legEncryption('tls', 'rtp'), { signalling: true, media: false })
    assert.deepEqual(legEncryption('udp', 'rtp'), { signalling: false, media: false })
    assert.deepEqual(legEncryption('wss', 'webrtc'), { signalling: true, media: true })
    // A plain ws: socket not vouched for by a trusted proxy's X-Forwarded-Proto
    assert.deepEqual(legEncryption('ws', 'webrtc'), { signalling: false, media: true })
  })
})

test.group('Media security: a side that changed hands (transfer)', () => {
  test('is encrypted only if both parties were; unknown stays unknown unless one was plain', ({
    assert,
  }) => {
    const tls = { signalling: true, media: true }
    const plain = { signalling: false, media: false }
    const unknown = { signalling: null, media: null }
    assert.deepEqual(bothEncrypted(tls, tls), tls)
    assert.deepEqual(bothEncrypted(tls, plain), plain, 'a TLS phone transferred to a plain carrier')
    assert.deepEqual(bothEncrypted(plain, tls), plain)
    assert.deepEqual(bothEncrypted(unknown, tls), unknown)
    assert.deepEqual(bothEncrypted(unknown, plain), plain)
    assert.deepEqual(bothEncrypted({ signalling: true, media: false }, tls), {
      signalling: true,
      media: false,
    })
  })
})
