import { test } from '@japa/runner'
import { MediaNegotiationError } from '#media/types'
import { SDP_LIMITS, parseAudioSdp, peerHolds } from '#media/sdp/audio_sdp'
import { isHold, sdpFacts } from '#media/sdp/sdp_facts'

/**
 * Signalling (sdpFacts, the B2BUA's 488 before anything rings) and the media legs read SDP from
 * peers with the same reader: the same size limits, and the same idea of hold.
 */
const plain = (lines: string[]) =>
  ['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 't=0 0', ...lines, ''].join('\r\n')

test.group('SDP: one reader for signalling and media', () => {
  test('hold agrees for every direction, with and without a zero connection address', ({
    assert,
  }) => {
    for (const address of ['192.0.2.1', '0.0.0.0']) {
      for (const direction of [null, 'sendrecv', 'sendonly', 'recvonly', 'inactive']) {
        const sdp = plain([
          `c=IN IP4 ${address}`,
          'm=audio 4000 RTP/AVP 8',
          ...(direction ? [`a=${direction}`] : []),
        ])
        const label = `${address} ${direction ?? '(none)'}`
        assert.equal(isHold(sdpFacts(sdp).direction), peerHolds(parseAudioSdp(sdp)), label)
        assert.equal(
          isHold(sdpFacts(sdp).direction),
          address === '0.0.0.0' || direction === 'sendonly' || direction === 'inactive',
          label
        )
      }
    }
  })

  test('an offer beyond the media limits is refused by signalling too (488 before anything rings)', ({
    assert,
  }) => {
    const large = plain([
      'c=IN IP4 192.0.2.1',
      'm=audio 4000 RTP/AVP 8',
      ...Array.from({ length: 40 }, (_, i) => `a=x-${i}-${'y'.repeat(500)}`),
    ])
    assert.isAbove(large.length, SDP_LIMITS.maxBytes)
    assert.isBelow(large.length, 64 * 1024, 'the old signalling limit would have let it through')
    assert.throws(() => parseAudioSdp(large), MediaNegotiationError)
    assert.equal(sdpFacts(large).problem, 'Not an SDP offer')
    assert.isNull(sdpFacts(plain(['c=IN IP4 192.0.2.1', 'm=audio 4000 RTP/AVP 8'])).problem)
  })
})
