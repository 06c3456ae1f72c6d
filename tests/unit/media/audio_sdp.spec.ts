import { test } from '@japa/runner'
import {
  buildAudioSdp,
  chooseAudioCodec,
  ourDirection,
  parseAudioSdp,
  peerHolds,
  restrictAudioPayloads,
  telephoneEvent8000,
} from '#media/sdp/audio_sdp'
import { MediaNegotiationError } from '#media/types'

const CARRIER = [
  'v=0',
  'o=carrier 1 1 IN IP4 192.0.2.10',
  's=-',
  'c=IN IP4 192.0.2.10',
  't=0 0',
  'm=audio 30000 RTP/AVP 8 0 96',
  'a=rtpmap:96 telephone-event/8000',
  'a=fmtp:96 0-16',
  'a=sendonly',
  '',
].join('\r\n')

const BROWSER = [
  'v=0',
  'o=- 1 1 IN IP4 0.0.0.0',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 0 8 110 126',
  'c=IN IP4 0.0.0.0',
  'a=mid:0',
  'a=rtpmap:111 opus/48000/2',
  'a=rtcp-fb:111 transport-cc',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:110 telephone-event/48000',
  'a=rtpmap:126 telephone-event/8000',
  'a=sendrecv',
  '',
].join('\r\n')

test.group('Audio SDP', () => {
  test('reads address, port, payload types (static ones without rtpmap) and direction', ({
    assert,
  }) => {
    const sdp = parseAudioSdp(CARRIER)
    assert.equal(sdp.address, '192.0.2.10')
    assert.equal(sdp.port, 30000)
    assert.equal(sdp.protocol, 'RTP/AVP')
    assert.deepEqual(sdp.payloadTypes, [8, 0, 96])
    assert.deepEqual(sdp.rtpmaps.get(8), { name: 'PCMA', clockRate: 8000 })
    assert.equal(sdp.direction, 'sendonly')
    assert.equal(telephoneEvent8000(sdp), 96)
    assert.deepEqual(chooseAudioCodec(sdp, ['PCMU', 'PCMA']), { codec: 'PCMU', payloadType: 0 })
    assert.isNull(
      chooseAudioCodec(parseAudioSdp(CARRIER.replace(' 8 0 96', ' 96')), ['PCMU', 'PCMA'])
    )
  })

  test('picks telephone-event at 8000 Hz, never the 48000 Hz one', ({ assert }) => {
    assert.equal(telephoneEvent8000(parseAudioSdp(BROWSER)), 126)
    assert.isNull(telephoneEvent8000(parseAudioSdp(BROWSER.replace(' 110 126', ' 110'))))
  })

  test("directions: the peer's hold forms and what we may do", ({ assert }) => {
    const peer = (direction: string, address = '192.0.2.10') =>
      parseAudioSdp(
        CARRIER.replace('a=sendonly', `a=${direction}`).replace(
          'c=IN IP4 192.0.2.10',
          `c=IN IP4 ${address}`
        )
      )
    assert.equal(ourDirection(peer('sendrecv')), 'sendrecv')
    assert.equal(ourDirection(peer('sendonly')), 'recvonly')
    assert.equal(ourDirection(peer('recvonly')), 'sendonly')
    assert.equal(ourDirection(peer('inactive')), 'inactive')
    assert.equal(ourDirection(peer('sendrecv', '0.0.0.0')), 'recvonly')
    assert.equal(ourDirection(peer('sendrecv'), 'sendonly'), 'sendonly')
    assert.equal(ourDirection(peer('sendonly'), 'sendonly'), 'inactive')
    assert.isTrue(peerHolds(peer('sendonly')))
    assert.isTrue(peerHolds(peer('inactive')))
    assert.isTrue(peerHolds(peer('sendrecv', '0.0.0.0')))
    assert.isFalse(peerHolds(peer('sendrecv')))
    assert.isFalse(peerHolds(peer('recvonly')))
  })

  test('session-level c= and direction apply when the media section has none', ({ assert }) => {
    const sdp = parseAudioSdp(
      [
        'v=0',
        'o=- 1 1 IN IP4 192.0.2.1',
        's=-',
        'c=IN IP4 192.0.2.1',
        't=0 0',
        'a=inactive',
        'm=audio 4000 RTP/AVP 0',
        '',
      ].join('\r\n')
    )
    assert.equal(sdp.address, '192.0.2.1')
    assert.equal(sdp.direction, 'inactive')
  })

  test('bad SDP is a negotiation error, never a crash', ({ assert }) => {
    const cases = [
      '',
      'hello',
      'v=0\r\nm=video 9 RTP/AVP 96\r\n',
      'v=0\r\nm=audio 9 RTP/AVP 0\r\n',
      'v=0\r\nc=IN IP4 192.0.2.1\r\nm=audio 99999 RTP/AVP 0\r\n',
      'v=0\r\nc=IN IP4 192.0.2.1\r\nm=audio 9 RTP/AVP 0 300\r\n',
      'v=0\r\nc=IN IP4 192.0.2.1\r\nm=audio nine RTP/AVP 0\r\n',
      'v=0\r\n' + 'a=x\r\n'.repeat(300),
      'v=0\r\na=' + 'x'.repeat(2000) + '\r\n',
      'v=0\r\n' + 'x'.repeat(20_000),
      'v=0\r\nc=IN IP4 192.0.2.1\r\nm=audio 9 RTP/AVP ' +
        Array.from({ length: 40 }, (_, i) => i).join(' ') +
        '\r\n',
    ]
    for (const sdp of cases) assert.throws(() => parseAudioSdp(sdp), MediaNegotiationError)
  })

  test('restricts a browser offer to the kept payload types with their attribute lines', ({
    assert,
  }) => {
    const restricted = restrictAudioPayloads(BROWSER, new Set([8, 126]))
    assert.include(restricted, 'm=audio 9 UDP/TLS/RTP/SAVPF 8 126\r\n')
    assert.notInclude(restricted, 'opus')
    assert.notInclude(restricted, 'a=fmtp:111')
    assert.notInclude(restricted, 'a=rtcp-fb:111')
    assert.notInclude(restricted, 'telephone-event/48000')
    assert.include(restricted, 'a=rtpmap:126 telephone-event/8000')
    assert.include(restricted, 'a=mid:0')
    assert.throws(() => restrictAudioPayloads(BROWSER, new Set([9])), MediaNegotiationError)
  })

  test('builds plain RTP/AVP SDP with telephone-event 0-16 and 20 ms packets', ({ assert }) => {
    const sdp = buildAudioSdp({
      sessionId: '42',
      version: 3,
      address: '198.51.100.7',
      port: 45002,
      audio: [
        { codec: 'PCMA', payloadType: 8 },
        { codec: 'PCMU', payloadType: 0 },
      ],
      dtmfPayloadType: 101,
      direction: 'sendonly',
    })
    assert.equal(
      sdp,
      [
        'v=0',
        'o=- 42 3 IN IP4 198.51.100.7',
        's=-',
        'c=IN IP4 198.51.100.7',
        't=0 0',
        'm=audio 45002 RTP/AVP 8 0 101',
        'a=rtpmap:8 PCMA/8000',
        'a=rtpmap:0 PCMU/8000',
        'a=rtpmap:101 telephone-event/8000',
        'a=fmtp:101 0-16',
        'a=ptime:20',
        'a=sendonly',
        '',
      ].join('\r\n')
    )
    const parsed = parseAudioSdp(sdp)
    assert.deepEqual(parsed.payloadTypes, [8, 0, 101])
  })
})
