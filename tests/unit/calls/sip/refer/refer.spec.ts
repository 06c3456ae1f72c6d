import { test } from '@japa/runner'
import { parseRefer, parseReplaces } from '#sip'
import { parseRequest } from '#tests/unit/calls/sip/sip_fixtures'

function refer(extra: string[]) {
  return parseRequest(
    [
      'REFER sip:b2bua@192.0.2.1:5060 SIP/2.0',
      'Via: SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bKrefer1',
      'Max-Forwards: 70',
      'From: <sip:23@example.test>;tag=phone-1',
      'To: <sip:22@example.test>;tag=b2bua-1',
      'Call-ID: refer-call-1',
      'CSeq: 101 REFER',
      'Contact: <sip:phone@192.0.2.20:5060>',
      ...extra,
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n')
  )
}

test.group('REFER (RFC 3515, 3891, 3892)', () => {
  test('Refer-To and Referred-By of a blind transfer', ({ assert }) => {
    const parsed = parseRefer(
      refer(['Refer-To: <sip:24@example.test>', 'Referred-By: <sip:23@example.test>'])
    )
    assert.equal(parsed?.target.user, '24')
    assert.equal(parsed?.referredBy?.uri.toString(), 'sip:23@example.test')
    assert.isNull(parsed?.replaces)
  })

  test('an attended transfer: the Replaces of the Refer-To URI, its escapes decoded', ({
    assert,
  }) => {
    const parsed = parseRefer(
      refer(['Refer-To: <sip:24@example.test?Replaces=abc%40host%3Bto-tag%3Dt1%3Bfrom-tag%3Df1>'])
    )
    assert.deepEqual(parsed?.replaces, {
      callId: 'abc@host',
      toTag: 't1',
      fromTag: 'f1',
      earlyOnly: false,
    })
    assert.equal(parsed?.target.toString(), 'sip:24@example.test')
  })

  test('refused: no Refer-To, two, a tel URI, a Replaces without its tags', ({ assert }) => {
    assert.isNull(parseRefer(refer([])))
    assert.isNull(parseRefer(refer(['Refer-To: <sip:24@a.test>', 'Refer-To: <sip:25@a.test>'])))
    assert.isNull(parseRefer(refer(['Refer-To: <tel:+4930123>'])))
    assert.isNull(parseRefer(refer(['Refer-To: <sip:24@a.test?Replaces=abc%3Bto-tag%3Dt1>'])))
    assert.isNull(parseReplaces(';to-tag=a;from-tag=b'))
    assert.equal(parseReplaces('x;to-tag=a;from-tag=b;early-only')?.earlyOnly, true)
  })
})
