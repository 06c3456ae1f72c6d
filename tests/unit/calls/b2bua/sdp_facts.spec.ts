import { test } from '@japa/runner'
import { isHold, sdpFacts } from '#media/sdp/sdp_facts'

const CHROMIUM_OFFER = [
  'v=0',
  'o=- 1 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0',
  'a=fingerprint:sha-256 AA:BB',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 0 8 126 101',
  'c=IN IP4 0.0.0.0',
  'a=rtpmap:111 opus/48000/2',
  'a=rtpmap:126 telephone-event/48000',
  'a=rtpmap:101 telephone-event/8000',
  'a=sendrecv',
  '',
].join('\r\n')

test.group('SDP facts', () => {
  test('a WebRTC offer: Opus, PCMU and PCMA in the offer order, sendrecv despite c=0.0.0.0 with ICE', ({
    assert,
  }) => {
    const facts = sdpFacts(CHROMIUM_OFFER)
    assert.deepEqual(facts.codecs, ['opus', 'PCMU', 'PCMA'])
    assert.isTrue(facts.webrtc)
    // WebRTC writes 0.0.0.0 with ICE; an explicit a=sendrecv keeps it a live call.
    assert.equal(facts.direction, 'sendrecv')
  })

  test('plain RTP: static payload types without rtpmap, hold by sendonly and by c=0.0.0.0', ({
    assert,
  }) => {
    const plain = 'v=0\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8 0\r\n'
    assert.deepEqual(sdpFacts(plain).codecs, ['PCMA', 'PCMU'])
    assert.isFalse(sdpFacts(plain).webrtc)
    assert.equal(sdpFacts(plain + 'a=sendonly\r\n').direction, 'sendonly')
    assert.equal(
      sdpFacts('v=0\r\nc=IN IP4 0.0.0.0\r\nm=audio 4000 RTP/AVP 0\r\n').direction,
      'inactive'
    )
    assert.isTrue(isHold('sendonly'))
    assert.isTrue(isHold('inactive'))
    assert.isFalse(isHold('recvonly'))
  })

  test('no usable codec: an empty list (the B2BUA answers 488)', ({ assert }) => {
    assert.deepEqual(
      sdpFacts('v=0\r\nm=audio 4000 RTP/AVP 9\r\na=rtpmap:9 G722/8000\r\n').codecs,
      []
    )
    assert.deepEqual(sdpFacts('v=0\r\n').codecs, [])
  })
})

test.group('SDP facts: offers no media leg could take', () => {
  const rtp = (lines: string[]) =>
    ['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', ...lines, ''].join('\r\n')

  test('{name}: {problem}')
    .with([
      {
        name: 'not SDP at all',
        sdp: 'banana\r\nm=audio 4000 RTP/AVP 8\r\n',
        problem: 'Not an SDP offer',
      },
      { name: 'binary garbage', sdp: '\u0000\u00ff\u0001v=0', problem: 'Not an SDP offer' },
      {
        name: 'no audio stream',
        sdp: rtp(['c=IN IP4 192.0.2.1', 'm=video 4000 RTP/AVP 96']),
        problem: 'An audio stream is required',
      },
      {
        name: 'a malformed m= line',
        sdp: rtp(['c=IN IP4 192.0.2.1', 'm=audio many RTP/AVP 8']),
        problem: 'Malformed audio stream',
      },
      {
        name: 'a disabled stream',
        sdp: rtp(['c=IN IP4 192.0.2.1', 'm=audio 0 RTP/AVP 8']),
        problem: 'The audio stream is disabled (port 0)',
      },
      {
        name: 'only G.722',
        sdp: rtp(['c=IN IP4 192.0.2.1', 'm=audio 4000 RTP/AVP 9', 'a=rtpmap:9 G722/8000']),
        problem: 'PCMU, PCMA or Opus required',
      },
      {
        name: 'a host name for c=',
        sdp: rtp(['c=IN IP4 phone.example', 'm=audio 4000 RTP/AVP 8']),
        problem: 'The connection address must be an IP address',
      },
      {
        name: 'no c= line',
        sdp: rtp(['m=audio 4000 RTP/AVP 8']),
        problem: 'The connection address must be an IP address',
      },
      {
        name: 'an SDP larger than 64 KiB',
        sdp: rtp(['c=IN IP4 192.0.2.1', 'm=audio 4000 RTP/AVP 8', `a=x-${'y'.repeat(70_000)}`]),
        problem: 'Not an SDP offer',
      },
    ])
    .run(({ assert }, { sdp, problem }) => {
      const facts = sdpFacts(sdp)
      assert.equal(facts.problem, problem)
    })

  test('usable offers have no problem: plain RTP, hold by c=0.0.0.0, IPv6, WebRTC with c=0.0.0.0', ({
    assert,
  }) => {
    assert.isNull(sdpFacts(rtp(['c=IN IP4 192.0.2.1', 'm=audio 4000 RTP/AVP 8 101'])).problem)
    assert.isNull(sdpFacts(rtp(['c=IN IP4 0.0.0.0', 'm=audio 4000 RTP/AVP 0'])).problem)
    assert.isNull(sdpFacts(rtp(['c=IN IP6 2001:db8::1', 'm=audio 4000 RTP/AVP 0'])).problem)
    assert.isNull(sdpFacts(CHROMIUM_OFFER).problem)
  })
})
