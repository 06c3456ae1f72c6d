import { test } from '@japa/runner'
import SipHeaders from '#sip/message/sip_headers'
import SipUri from '#sip/message/sip_uri'
import ViaHeader from '#sip/message/via_header'
import { headerLineParts } from '#sip/message/sip_message_parser'
import { parseRequest, options } from '#tests/unit/calls/sip/sip_fixtures'

/** The pattern the header-line reader replaced (issue 17), as the reference it must agree with. */
const HEADER_LINE = /^([^:\s]+)[ \t]*:[ \t]*(.*)$/

function byPattern(line: string) {
  const match = HEADER_LINE.exec(line)
  return match ? { name: match[1], value: match[2].trimEnd() } : undefined
}

test.group('Allocation cuts of the SIP message layer (issue 17)', () => {
  test('header lines are read as the pattern reads them', ({ assert }) => {
    const lines = [
      'Via: SIP/2.0/UDP host;branch=z9hG4bK1',
      'Via:SIP/2.0/UDP host',
      'Via \t : \t value \t ',
      'Subject:',
      'Subject:   ',
      'X-Empty :',
      ': no name',
      ' Via: leading space',
      'Na me: value',
      'Name\u00a0: value',
      'Name\u000b: value',
      'no colon at all',
      'Name: a:b:c',
      'Name: value\u2028more',
      'Name: value\u2029',
      'Name: value\u00a0',
      'Name: "quoted \\" value"  ',
      'Name\t\t:x',
      'Name:\u3000x',
      '',
      ':',
      'a:b',
    ]
    for (const line of lines) {
      assert.deepEqual(headerLineParts(line), byPattern(line), JSON.stringify(line))
    }
  })

  test('set replaces one line in place and keeps the order and the parsed forms in step', ({
    assert,
  }) => {
    const headers = new SipHeaders([
      ['Via', 'SIP/2.0/UDP a;branch=z9hG4bK1'],
      ['Max-Forwards', '70'],
      ['To', '<sip:b@example.com>'],
    ])
    assert.equal(
      headers.parsed('max-forwards', (values) => Number(values[0])),
      70
    )
    headers.set('max-forwards', '69')
    assert.deepEqual(
      [...headers.entries()],
      [
        ['Via', 'SIP/2.0/UDP a;branch=z9hG4bK1'],
        ['Max-Forwards', '69'],
        ['To', '<sip:b@example.com>'],
      ]
    )
    assert.equal(
      headers.parsed('max-forwards', (values) => Number(values[0])),
      69
    )
  })

  test('set of a header on several lines, with several values or none, as before', ({ assert }) => {
    const headers = new SipHeaders([
      ['Route', '<sip:a>'],
      ['To', '<sip:b>'],
      ['Route', '<sip:c>'],
    ])
    headers.set('Route', '<sip:d>')
    assert.deepEqual(
      [...headers.entries()],
      [
        ['Route', '<sip:d>'],
        ['To', '<sip:b>'],
      ]
    )
    headers.set('Route', '<sip:e>', '<sip:f>')
    assert.deepEqual(
      [...headers.entries()],
      [
        ['Route', '<sip:e>'],
        ['Route', '<sip:f>'],
        ['To', '<sip:b>'],
      ]
    )
    headers.set('Contact', '<sip:g>')
    headers.set('Route')
    assert.deepEqual(
      [...headers.entries()],
      [
        ['To', '<sip:b>'],
        ['Contact', '<sip:g>'],
      ]
    )
  })

  test('lines() writes the stored lines as entries() names them, without the excepted one', ({
    assert,
  }) => {
    const headers = new SipHeaders([
      ['v', 'SIP/2.0/UDP a'],
      ['call-id', 'x'],
      ['l', '12'],
      ['cseq', '1 INVITE'],
      ['x-custom-header', 'y'],
    ])
    const expected = [...headers.entries()]
      .filter(([name]) => name !== 'Content-Length')
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('')
    assert.equal(headers.lines('content-length'), expected)
    assert.equal(
      headers.lines('content-length'),
      'Via: SIP/2.0/UDP a\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nX-Custom-Header: y\r\n'
    )
  })

  test('a message serialises as before', ({ assert }) => {
    const request = parseRequest(options())
    let head = `${request.startLine()}\r\n`
    for (const [name, value] of request.headers.entries()) {
      if (name !== 'Content-Length') head += `${name}: ${value}\r\n`
    }
    head += `Content-Length: ${request.body.length}\r\n\r\n`
    assert.equal(request.toString(), head + request.body.toString('utf8'))
  })

  test('URIs without parameters or headers share an empty map; with them, their own', ({
    assert,
  }) => {
    const bare = SipUri.parse('sip:alice@example.com')
    const other = SipUri.parse('sip:bob@example.org:5070')
    assert.equal(bare.params.size, 0)
    assert.equal(bare.headers.size, 0)
    assert.strictEqual(bare.params, other.params)
    const full = SipUri.parse('sip:carol@example.com;transport=tcp;lr?subject=hi&priority=urgent')
    assert.deepEqual(
      [...full.params],
      [
        ['transport', 'tcp'],
        ['lr', null],
      ]
    )
    assert.deepEqual(
      [...full.headers],
      [
        ['subject', 'hi'],
        ['priority', 'urgent'],
      ]
    )
    assert.notStrictEqual(full.params, bare.params)
    assert.equal(
      full.toString(),
      'sip:carol@example.com;transport=tcp;lr?subject=hi&priority=urgent'
    )
    assert.equal(bare.with({ port: 5080 }).toString(), 'sip:alice@example.com:5080')
    assert.throws(() => SipUri.parse('sip:alice@example.com;'))
    assert.equal(bare.params.size, 0)
  })

  test('withParams sets the parameters in order, as withParam one after the other', ({
    assert,
  }) => {
    const via = ViaHeader.parse('SIP/2.0/UDP host:5060;branch=z9hG4bK1;rport')
    const both = via.withParams([
      ['received', '192.0.2.1'],
      ['RPORT', '5062'],
    ])
    const stepwise = via.withParam('received', '192.0.2.1').withParam('rport', '5062')
    assert.equal(both.toString(), stepwise.toString())
    assert.equal(
      both.toString(),
      'SIP/2.0/UDP host:5060;branch=z9hG4bK1;rport=5062;received=192.0.2.1'
    )
    assert.equal(via.toString(), 'SIP/2.0/UDP host:5060;branch=z9hG4bK1;rport')
  })
})
