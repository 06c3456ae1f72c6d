import { test } from '@japa/runner'
import { inspect } from 'node:util'
import SipMessageParser from '#sip/message/sip_message_parser'
import SipParseError from '#sip/message/sip_parse_error'
import SipTrafficLogger, { escapeControls } from '#sip/transport/sip_traffic_logger'
import { parseAudioSdp } from '#media/sdp/audio_sdp'
import { MemoryLogger } from '#tests/unit/calls/sip/transport/transport_fixtures'

test.group('SipTrafficLogger', () => {
  test('control characters from a peer are written escaped', ({ assert }) => {
    assert.equal(
      escapeControls('BEL:\x07 NUL:\x00 DEL:\x7f tab:\t'),
      'BEL:\\x07 NUL:\\x00 DEL:\\x7f tab:\\x09'
    )
    const memory = new MemoryLogger()
    new SipTrafficLogger(memory).failure('sip receive', new Error('bad \x1b[31m peer'))
    const line = JSON.stringify(memory.lines)
    assert.notMatch(line, /\\u001b/)
    assert.include((memory.lines[0].bindings as { error: string }).error, 'bad \\x1b[31m peer')
  })

  test('SDES keys (a=crypto inline:) never reach the logs: not in traffic lines, parse failures or failures', ({
    assert,
  }) => {
    const key = Buffer.alloc(30, 0x5a).toString('base64')
    const sdp = [
      'v=0',
      'o=- 1 1 IN IP4 127.0.0.1',
      's=-',
      'c=IN IP4 127.0.0.1',
      't=0 0',
      'm=audio 30000 RTP/SAVP 0',
      `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${key}`,
      '',
    ].join('\r\n')
    const invite = [
      'INVITE sip:+4930123456@127.0.0.1;transport=tls SIP/2.0',
      'Via: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bK-1',
      'From: <sip:alice@127.0.0.1>;tag=1',
      'To: <sip:+4930123456@127.0.0.1>',
      'Call-ID: srtp-1',
      'CSeq: 1 INVITE',
      'Max-Forwards: 70',
      'Content-Type: application/sdp',
      `Content-Length: ${Buffer.byteLength(sdp)}`,
      '',
      sdp,
    ].join('\r\n')
    const memory = new MemoryLogger()
    const logger = new SipTrafficLogger(memory)
    const peer = { protocol: 'tls' as const, address: '127.0.0.1', port: 5061 }
    const message = new SipMessageParser({ maxMessageSize: 65_536 }).parse(Buffer.from(invite))
    logger.received(message, peer)
    logger.sent(message, peer)
    // A message the parser refuses, with the key in it (Content-Length larger than the body)
    const broken = invite.replace(/Content-Length: \d+/, 'Content-Length: 9999')
    try {
      new SipMessageParser({ maxMessageSize: 65_536 }).parse(Buffer.from(broken))
      assert.fail('expected a parse error')
    } catch (error) {
      assert.instanceOf(error, SipParseError)
      logger.parseFailed(error as SipParseError, peer, 400)
      logger.failure('sip receive', error, peer)
    }
    // A negotiated key logged by mistake shows only its suite
    logger.failure('media', new Error(inspect(parseAudioSdp(sdp).crypto)))
    assert.isAbove(memory.lines.length, 3)
    assert.notInclude(memory.text, key)
    assert.notInclude(memory.text, key.slice(0, 16))
  })
})

test.group('SipTrafficLogger with debug off', () => {
  test('per-message lines are neither described nor written; the counters still count', ({
    assert,
  }) => {
    const memory = new MemoryLogger()
    let asked = 0
    const quiet = Object.assign(memory, {
      isLevelEnabled: (level: string) => {
        asked += 1
        return level !== 'debug'
      },
    })
    const logger = new SipTrafficLogger(quiet)
    const options = [
      'OPTIONS sip:127.0.0.1 SIP/2.0',
      'Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-2',
      'From: <sip:probe@127.0.0.1>;tag=2',
      'To: <sip:127.0.0.1>',
      'Call-ID: quiet-1',
      'CSeq: 1 OPTIONS',
      'Max-Forwards: 70',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n')
    const message = new SipMessageParser({ maxMessageSize: 65_536 }).parse(Buffer.from(options))
    const peer = { protocol: 'udp' as const, address: '127.0.0.1', port: 5062 }
    logger.received(message, peer)
    logger.sent(message, peer)
    assert.equal(asked, 2)
    assert.lengthOf(memory.lines, 0)
    assert.equal(logger.stats.requests.get('in OPTIONS'), 1)
    assert.equal(logger.stats.requests.get('out OPTIONS'), 1)
  })
})
