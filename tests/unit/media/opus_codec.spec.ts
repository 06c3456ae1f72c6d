import { test } from '@japa/runner'
import OutboundRtpStream from '#media/outbound_rtp_stream'
import { chooseAudioCodec, parseAudioSdp } from '#media/sdp/audio_sdp'
import { sdpFacts } from '#media/sdp/sdp_facts'

/*
 * Opus (RFC 7587) beside G.711: how offers list it, that it is matched at 48 kHz, and the 48 kHz
 * clock when a relayed stream changes source. The relay itself (payload types rewritten, payload
 * untouched) is proven with real legs in tests/e2e/media/media_engine.spec.ts.
 */

const sdp = (lines: string[]) =>
  ['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 't=0 0', ...lines, ''].join('\r\n')

const BROWSER_OFFER = sdp([
  'c=IN IP4 0.0.0.0',
  'a=fingerprint:sha-256 AB:CD',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 0 8 126',
  'a=rtpmap:111 opus/48000/2',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=rtpmap:126 telephone-event/8000',
])

const PHONE_OFFER = sdp([
  'c=IN IP4 192.0.2.7',
  'm=audio 4000 RTP/AVP 96 8 0 101',
  'a=rtpmap:96 opus/48000/2',
  'a=rtpmap:101 telephone-event/8000',
])

test.group('Opus', () => {
  test('offers list Opus where the peer put it: first from a browser, a SIP phone its own order', ({
    assert,
  }) => {
    assert.deepEqual(sdpFacts(BROWSER_OFFER).codecs, ['opus', 'PCMU', 'PCMA'])
    assert.isNull(sdpFacts(BROWSER_OFFER).problem)
    assert.deepEqual(sdpFacts(PHONE_OFFER).codecs, ['opus', 'PCMA', 'PCMU'])
    const g722Only = sdp(['c=IN IP4 192.0.2.7', 'm=audio 4000 RTP/AVP 9', 'a=rtpmap:9 G722/8000'])
    assert.equal(sdpFacts(g722Only).problem, 'PCMU, PCMA or Opus required')
    const opusOnly = sdp([
      'c=IN IP4 192.0.2.7',
      'm=audio 4000 RTP/AVP 96',
      'a=rtpmap:96 opus/48000/2',
    ])
    assert.isNull(sdpFacts(opusOnly).problem)
    assert.deepEqual(sdpFacts(opusOnly).codecs, ['opus'])
  })

  test('Opus is matched at 48000 Hz with its own payload type, not at 8000', ({ assert }) => {
    assert.deepEqual(chooseAudioCodec(parseAudioSdp(BROWSER_OFFER), ['opus', 'PCMA']), {
      codec: 'opus',
      payloadType: 111,
    })
    const wrongClock = sdp([
      'c=IN IP4 192.0.2.7',
      'm=audio 4000 RTP/AVP 96 8',
      'a=rtpmap:96 opus/8000',
    ])
    assert.deepEqual(chooseAudioCodec(parseAudioSdp(wrongClock), ['opus', 'PCMA']), {
      codec: 'PCMA',
      payloadType: 8,
    })
  })

  test('a new source continues the timestamps on the 48 kHz clock', ({ assert }) => {
    let now = 0
    const stream = new OutboundRtpStream(5, () => now)
    stream.setClockRate(48000)
    const packet = (ssrc: number, seq: number, ts: number) => {
      const buf = Buffer.alloc(60)
      buf[0] = 0x80
      buf[1] = 111
      buf.writeUInt16BE(seq, 2)
      buf.writeUInt32BE(ts, 4)
      buf.writeUInt32BE(ssrc, 8)
      return buf
    }
    const first = packet(1, 10, 1000)
    stream.rewrite(first, true)
    now += 100 // the next source speaks 100 ms later
    const second = packet(2, 500, 777_777)
    stream.rewrite(second, true)
    assert.equal((second.readUInt32BE(4) - first.readUInt32BE(4)) >>> 0, 100 * 48)
    // Back-to-back: at least one 20 ms packet (960 ticks), not G.711's 160
    stream.restart()
    const third = packet(2, 501, 778_737)
    stream.rewrite(third, true)
    assert.equal((third.readUInt32BE(4) - second.readUInt32BE(4)) >>> 0, 960)
  })
})
