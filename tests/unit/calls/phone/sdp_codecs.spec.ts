import { test } from '@japa/runner'
import { restrictSdpToPhoneCodecs } from '../../../../resources/js/phone/sdp_codecs.js'

/** An offer the way Chromium writes it (trimmed): Opus first, telephone-event at 48 and 8 kHz. */
const CHROMIUM_OFFER = [
  'v=0',
  'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126',
  'c=IN IP4 0.0.0.0',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=mid:0',
  'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
  'a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  'a=sendrecv',
  'a=rtpmap:111 opus/48000/2',
  'a=rtcp-fb:111 transport-cc',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=rtpmap:63 red/48000/2',
  'a=fmtp:63 111/111',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:13 CN/8000',
  'a=rtpmap:110 telephone-event/48000',
  'a=rtpmap:126 telephone-event/8000',
  'a=fmtp:126 0-15',
  '',
].join('\r\n')

test.group('Web phone: Opus, then G.711', () => {
  test('the offer keeps Opus, PCMU, PCMA and telephone-event/8000 (in that order) and nothing else', ({
    assert,
  }) => {
    const sdp = restrictSdpToPhoneCodecs(CHROMIUM_OFFER)
    const lines = sdp.split('\r\n')
    assert.include(lines, 'm=audio 9 UDP/TLS/RTP/SAVPF 111 0 8 126')
    assert.includeMembers(lines, [
      'a=rtpmap:111 opus/48000/2',
      'a=fmtp:111 minptime=10;useinbandfec=1',
      'a=rtpmap:0 PCMU/8000',
      'a=rtpmap:8 PCMA/8000',
      'a=rtpmap:126 telephone-event/8000',
      'a=fmtp:126 0-15',
    ])
    // The audio level extension would tell the relay when someone speaks (issue 22).
    for (const gone of [
      'red/',
      'a=fmtp:63',
      'G722',
      'CN/8000',
      'telephone-event/48000',
      'ssrc-audio-level',
    ]) {
      assert.notInclude(sdp, gone)
    }
    assert.includeMembers(
      lines,
      [
        'a=mid:0',
        'a=sendrecv',
        'c=IN IP4 0.0.0.0',
        'a=group:BUNDLE 0',
        'a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
      ],
      'the rest stays'
    )
    assert.isTrue(sdp.endsWith('\r\n'))
  })

  test('static payload types without rtpmap lines are kept; video sections are left alone', ({
    assert,
  }) => {
    const sdp = restrictSdpToPhoneCodecs(
      [
        'v=0',
        'm=audio 4000 RTP/AVP 0 8 18',
        'a=rtpmap:18 G729/8000',
        'm=video 4002 RTP/AVP 96',
        'a=rtpmap:96 VP8/90000',
        '',
      ].join('\r\n')
    )
    assert.include(sdp, 'm=audio 4000 RTP/AVP 0 8\r\n')
    assert.notInclude(sdp, 'G729')
    assert.include(sdp, 'm=video 4002 RTP/AVP 96\r\na=rtpmap:96 VP8/90000')
  })
})
