import { test } from '@japa/runner'
import SipMessageParser from '#sip/message/sip_message_parser'
import SipParseError from '#sip/message/sip_parse_error'
import SipRequest from '#sip/message/sip_request'
import SipResponse from '#sip/message/sip_response'
import SipUri from '#sip/message/sip_uri'
import AbsoluteUri from '#sip/message/absolute_uri'
import { ParseFailure } from '#sip/message/parse_failure'
import { createParseErrorResponse } from '#sip/message/create_response'
import {
  SDP,
  invite,
  options,
  parseRequest,
  parseResponse,
} from '#tests/unit/calls/sip/sip_fixtures'

const parser = new SipMessageParser()

/** Parses and returns the SipParseError, failing the test on success or on any other error. */
function parseFailure(input: string | Buffer, limits?: SipMessageParser): SipParseError {
  try {
    ;(limits ?? parser).parse(typeof input === 'string' ? Buffer.from(input) : input)
  } catch (error) {
    if (error instanceof SipParseError) {
      return error
    }
    throw new Error(`expected SipParseError, got ${String(error)}`)
  }
  throw new Error('expected the message to be rejected')
}

test.group('SipMessageParser / valid messages', () => {
  test('parses an INVITE with an SDP body', ({ assert }) => {
    const request = parseRequest(invite())
    assert.equal(request.method, 'INVITE')
    assert.equal(request.uri.user, 'bob')
    assert.equal(request.uri.host, 'biloxi.example.com')
    assert.equal(request.topVia.transport, 'UDP')
    assert.equal(request.topVia.host, 'pc33.atlanta.example.com')
    assert.equal(request.topVia.port, 5060)
    assert.equal(request.topVia.branch, 'z9hG4bK776asdhds')
    assert.equal(request.from.displayName, 'Alice A.')
    assert.equal(request.from.tag, '1928301774')
    assert.equal(request.to.displayName, 'Bob')
    assert.isUndefined(request.to.tag)
    assert.equal(request.callId, 'a84b4c76e66710@pc33.atlanta.example.com')
    assert.equal(request.cseq.sequence, 314159)
    assert.equal(request.cseq.method, 'INVITE')
    assert.equal(request.maxForwards, 70)
    assert.equal(request.contacts[0].uri.toString(), 'sip:alice@pc33.atlanta.example.com')
    assert.equal(request.contentType, 'application/sdp')
    assert.equal(request.body.toString(), SDP)
    assert.isFalse(request.headers.has('content-length'))
  })

  test('parses responses', ({ assert }) => {
    const response = parseResponse(
      [
        'SIP/2.0 180 Ringing',
        'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKx;received=198.51.100.7;rport=40123',
        'From: <sip:a@example.com>;tag=1',
        'To: <sip:b@example.com>;tag=2',
        'Call-ID: c1',
        'CSeq: 2 INVITE',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n')
    )
    assert.instanceOf(response, SipResponse)
    assert.equal(response.status, 180)
    assert.equal(response.reason, 'Ringing')
    assert.isTrue(response.isProvisional)
    assert.equal(response.topVia.received, '198.51.100.7')
    assert.equal(response.topVia.rport, 40123)
    assert.equal(response.to.tag, '2')
    assert.equal(response.body.length, 0)
  })

  test('accepts a status line with an empty reason phrase', ({ assert }) => {
    const response = parseResponse(
      'SIP/2.0 200 \r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: x\r\nCSeq: 1 BYE\r\n\r\n'
    )
    assert.equal(response.status, 200)
    assert.equal(response.reason, '')
  })

  test('understands compact header names', ({ assert }) => {
    const request = parseRequest(
      [
        'MESSAGE sip:bob@example.com SIP/2.0',
        'v: SIP/2.0/TCP 192.0.2.4;branch=z9hG4bKc1',
        'f: <sip:alice@example.com>;tag=9',
        't: <sip:bob@example.com>',
        'i: compact-1',
        'CSeq: 1 MESSAGE',
        'm: <sip:alice@192.0.2.4>',
        'k: timer, 100rel',
        's: hello',
        'c: text/plain',
        'l: 2',
        '',
        'hi',
      ].join('\r\n')
    )
    assert.equal(request.topVia.transport, 'TCP')
    assert.equal(request.headers.get('Via'), request.headers.get('v'))
    assert.equal(request.from.tag, '9')
    assert.equal(request.callId, 'compact-1')
    assert.equal(request.contacts.length, 1)
    assert.deepEqual(request.headers.getAll('Supported'), ['timer', '100rel'])
    assert.equal(request.headers.get('subject'), 'hello')
    assert.equal(request.contentType, 'text/plain')
    assert.equal(request.body.toString(), 'hi')
    assert.include(request.toString(), 'Call-ID: compact-1\r\n')
  })

  test('headers named like properties of every object are plain unknown headers', ({ assert }) => {
    const request = parseRequest(
      [
        'OPTIONS sip:bob@example.com SIP/2.0',
        'Via: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKp1',
        'From: <sip:alice@example.com>;tag=9',
        'To: <sip:bob@example.com>',
        'Call-ID: proto-1',
        'CSeq: 1 OPTIONS',
        'constructor: a',
        '__proto__: b',
        'toString: c',
        'hasOwnProperty: d',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n')
    )
    assert.equal(request.headers.get('constructor'), 'a')
    assert.equal(request.headers.get('__proto__'), 'b')
    assert.equal(request.headers.get('tostring'), 'c')
    // Written back under their own names (this threw: the name was looked up on Object.prototype)
    const text = request.toString()
    assert.include(text, '\r\nConstructor: a\r\n')
    assert.include(text, '\r\n__proto__: b\r\n')
    assert.include(text, '\r\nTostring: c\r\n')
    assert.include(text, '\r\nHasownproperty: d\r\n')
  })

  test('splits multi-value headers on commas outside quotes and angle brackets', ({ assert }) => {
    const request = parseRequest(
      invite({
        extra: [
          'Via: SIP/2.0/UDP proxy1.example.com;branch=z9hG4bKp1, SIP/2.0/UDP proxy2.example.com:5070;branch=z9hG4bKp2',
          'Route: <sip:p1.example.com;lr>, <sip:a,b@p2.example.com;lr>',
          'Route: <sip:p3.example.com;lr>',
          'Record-Route: <sip:rr.example.com;lr>',
          'Contact: "Smith, John" <sip:john@192.0.2.5>;expires=60, <sip:john@192.0.2.6>;q=0.5',
        ],
      })
    )
    assert.deepEqual(
      request.via.map((via) => via.branch),
      ['z9hG4bK776asdhds', 'z9hG4bKp1', 'z9hG4bKp2']
    )
    assert.equal(request.via[2].sentBy, 'proxy2.example.com:5070')
    assert.deepEqual(
      request.routes.map((route) => route.uri.toString()),
      ['sip:p1.example.com;lr', 'sip:a,b@p2.example.com;lr', 'sip:p3.example.com;lr']
    )
    assert.equal(request.recordRoutes.length, 1)
    assert.equal(request.contacts.length, 3)
    assert.equal(request.contacts[1].displayName, 'Smith, John')
    assert.equal(request.contacts[1].param('expires'), '60')
    assert.equal(request.contacts[2].param('q'), '0.5')
  })

  test('parses IPv6 hosts in the Request-URI and Via', ({ assert }) => {
    const request = parseRequest(
      [
        'REGISTER sip:[2001:db8::9]:5062;transport=tcp SIP/2.0',
        'Via: SIP/2.0/TCP [2001:db8::1]:5070;branch=z9hG4bK6;received=2001:db8::2;rport=5071',
        'From: <sip:alice@[2001:db8::9]>;tag=a',
        'To: <sip:alice@[2001:db8::9]>',
        'Call-ID: v6',
        'CSeq: 1 REGISTER',
        'Contact: <sip:alice@[2001:db8::1]:5070;transport=tcp>;expires=3600',
        'Expires: 3600',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n')
    )
    assert.equal(request.uri.host, '2001:db8::9')
    assert.equal(request.uri.port, 5062)
    assert.equal(request.uri.transport, 'tcp')
    assert.equal(request.topVia.host, '2001:db8::1')
    assert.equal(request.topVia.port, 5070)
    assert.equal(request.topVia.received, '2001:db8::2')
    assert.equal(request.topVia.sentBy, '2001:db8::1:5070')
    assert.equal(request.contacts[0].uri.toString(), 'sip:alice@[2001:db8::1]:5070;transport=tcp')
    assert.equal(request.expires, 3600)
    assert.equal(request.startLine(), 'REGISTER sip:[2001:db8::9]:5062;transport=tcp SIP/2.0')
  })

  test('parses SIP URIs with user, password, parameters and headers', ({ assert }) => {
    const uri = SipUri.parse(
      'sips:alice;day=tuesday:secret@Atlanta.example.com:5061;transport=TLS;lr?subject=x&priority=urgent'
    )
    assert.equal(uri.scheme, 'sips')
    assert.equal(uri.user, 'alice;day=tuesday')
    assert.equal(uri.password, 'secret')
    assert.equal(uri.host, 'Atlanta.example.com')
    assert.equal(uri.port, 5061)
    assert.equal(uri.transport, 'tls')
    assert.isNull(uri.param('lr'))
    assert.equal(uri.headers.get('priority'), 'urgent')
    assert.equal(
      uri.toString(),
      'sips:alice;day=tuesday:secret@Atlanta.example.com:5061;transport=TLS;lr?subject=x&priority=urgent'
    )
  })

  test('reads name-addr and addr-spec forms and tel URIs in From', ({ assert }) => {
    const request = parseRequest(
      invite({ extra: [] })
        .replace(
          'From: "Alice A." <sip:alice@atlanta.example.com>;tag=1928301774',
          'From: tel:+15551234567;tag=t1'
        )
        .replace('To: Bob <sip:bob@biloxi.example.com>', 'To: sip:bob@biloxi.example.com;tag=x1')
    )
    assert.instanceOf(request.from.uri, AbsoluteUri)
    assert.equal(request.from.uri.toString(), 'tel:+15551234567')
    assert.equal(request.from.tag, 't1')
    assert.instanceOf(request.to.uri, SipUri)
    // Without angle brackets the ;tag belongs to the header, not to the URI (RFC 3261 20).
    assert.equal(request.to.tag, 'x1')
    assert.equal((request.to.uri as SipUri).params.size, 0)
  })

  test('unfolds continuation lines and ignores CRLFs before the start line', ({ assert }) => {
    const request = parseRequest(
      '\r\n\r\n' +
        invite()
          .replace('Subject', 'x')
          .replace(
            'Max-Forwards: 70',
            'Subject: a long\r\n  folded\r\n\tsubject\r\nMax-Forwards: 70'
          )
    )
    assert.equal(request.headers.get('subject'), 'a long folded subject')
  })

  test('discards bytes beyond Content-Length and reads to the end without it', ({ assert }) => {
    const extra = parseRequest(
      options().replace('Content-Length: 0', 'Content-Length: 3') + 'abcdef'
    )
    assert.equal(extra.body.toString(), 'abc')
    const withoutLength = parseRequest(options().replace('Content-Length: 0\r\n', '') + 'body')
    assert.equal(withoutLength.body.toString(), 'body')
  })

  test('serializes back to bytes with a correct Content-Length', ({ assert }) => {
    const request = parseRequest(invite())
    const again = parseRequest(request.toString())
    assert.equal(again.body.toString(), SDP)
    assert.equal(again.callId, request.callId)
    assert.deepEqual(again.via.map(String), request.via.map(String))

    request.body = Buffer.from('v=0\r\n')
    const text = request.toString()
    assert.include(text, 'Content-Length: 5\r\n\r\nv=0\r\n')
    assert.equal(text.match(/Content-Length/g)?.length, 1)
  })

  test('typed headers follow header changes', ({ assert }) => {
    const request = parseRequest(invite())
    assert.equal(request.cseq.sequence, 314159)
    request.headers.set('CSeq', '314160 INVITE')
    assert.equal(request.cseq.sequence, 314160)
    request.headers.prepend('Via', 'SIP/2.0/UDP proxy.example.com;branch=z9hG4bKnew')
    assert.equal(request.topVia.branch, 'z9hG4bKnew')
    assert.equal(request.via.length, 2)
  })
})

test.group('SipMessageParser / malformed messages', () => {
  test('rejects a request without CSeq', ({ assert }) => {
    const error = parseFailure(invite().replace('CSeq: 314159 INVITE\r\n', ''))
    assert.equal(error.reason, ParseFailure.MissingHeader)
    assert.isUndefined(error.envelope)
    assert.isUndefined(createParseErrorResponse(error))
  })

  test('rejects bad request lines', ({ assert }) => {
    for (const line of [
      'INVITE sip:bob@biloxi.example.com',
      'INVITE  sip:bob@biloxi.example.com SIP/2.0',
      'INV ITE sip:bob@biloxi.example.com SIP/2.0',
      'INVITE sip:bob@biloxi.example.com HTTP/1.1',
      'SIP/2.0 99 Too Low',
      'GET / HTTP/1.1',
    ]) {
      const error = parseFailure(
        invite().replace('INVITE sip:bob@biloxi.example.com SIP/2.0', line)
      )
      assert.equal(error.reason, ParseFailure.BadStartLine, line)
    }
  })

  test('answers another SIP version with 505', ({ assert }) => {
    const error = parseFailure(invite().replace('SIP/2.0\r\n', 'SIP/3.0\r\n'))
    assert.equal(error.reason, ParseFailure.UnsupportedVersion)
    assert.equal(createParseErrorResponse(error)?.status, 505)
  })

  test('answers an unsupported Request-URI scheme with 416', ({ assert }) => {
    const error = parseFailure(
      invite().replace('INVITE sip:bob@biloxi.example.com', 'INVITE tel:+15551234567')
    )
    assert.equal(error.reason, ParseFailure.UnsupportedUriScheme)
    assert.equal(createParseErrorResponse(error)?.status, 416)
  })

  test('rejects an oversize message and can answer it with 513', ({ assert }) => {
    const body = 'a'.repeat(70 * 1024)
    const error = parseFailure(invite({ body }))
    assert.equal(error.reason, ParseFailure.MessageTooLarge)
    assert.equal(createParseErrorResponse(error)?.status, 513)

    const noHeaderEnd = parseFailure('INVITE sip:a@b SIP/2.0\r\nX: ' + 'a'.repeat(70 * 1024))
    assert.equal(noHeaderEnd.reason, ParseFailure.MessageTooLarge)
  })

  test('rejects too many headers', ({ assert }) => {
    const extra = Array.from({ length: 100 }, (_, index) => `X-Header-${index}: ${index}`)
    const error = parseFailure(invite({ extra }))
    assert.equal(error.reason, ParseFailure.TooManyHeaders)
  })

  test('rejects an overlong line', ({ assert }) => {
    const error = parseFailure(invite({ extra: [`Subject: ${'x'.repeat(9000)}`] }))
    assert.equal(error.reason, ParseFailure.LineTooLong)
  })

  test('limits are configurable', ({ assert }) => {
    const strict = new SipMessageParser({ maxHeaderCount: 5 })
    assert.equal(parseFailure(invite(), strict).reason, ParseFailure.TooManyHeaders)
  })

  test('rejects bad Content-Length values', ({ assert }) => {
    for (const value of ['abc', '-1', '1.5', '99999999999', '12, 13']) {
      const error = parseFailure(options().replace('Content-Length: 0', `Content-Length: ${value}`))
      assert.equal(error.reason, ParseFailure.BadContentLength, value)
    }
    const conflicting = parseFailure(
      options().replace('Content-Length: 0', 'Content-Length: 0\r\nl: 4') + 'abcd'
    )
    assert.equal(conflicting.reason, ParseFailure.BadContentLength)
  })

  test('rejects a truncated body and answers it with 400', ({ assert }) => {
    const text = invite()
    const error = parseFailure(text.slice(0, text.length - 20))
    assert.equal(error.reason, ParseFailure.TruncatedBody)
    const response = createParseErrorResponse(error, 'err-tag')
    assert.isDefined(response)
    assert.equal(response!.status, 400)
    assert.include(response!.reason, 'Bad Request')
    assert.equal(response!.topVia.branch, 'z9hG4bK776asdhds')
    assert.equal(response!.callId, 'a84b4c76e66710@pc33.atlanta.example.com')
    assert.equal(response!.cseq.toString(), '314159 INVITE')
    assert.equal(response!.to.tag, 'err-tag')
    assert.equal(response!.from.tag, '1928301774')
  })

  test('rejects garbage bytes', ({ assert }) => {
    const inputs = [
      Buffer.from([0x00, 0x01, 0x02, 0xff, 0xfe, 0x0d, 0x0a, 0x0d, 0x0a]),
      Buffer.from('\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03', 'latin1'),
      Buffer.from('hello world'),
      Buffer.from(''),
      Buffer.from('\r\n\r\n'),
      Buffer.from('\r\n\r\n\r\n'),
      Buffer.from(': \r\n\r\n'),
      Buffer.from('SIP/2.0 200 OK\r\n\r\n'),
    ]
    for (const input of inputs) {
      assert.instanceOf(parseFailure(input), SipParseError)
    }
  })

  test('rejects invalid UTF-8 and control characters in headers', ({ assert }) => {
    const badUtf8 = Buffer.concat([
      Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nSubject: '),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('\r\n\r\n'),
    ])
    assert.equal(parseFailure(badUtf8).reason, ParseFailure.BadEncoding)
    assert.equal(
      parseFailure(options().replace('Max-Forwards: 70', 'Max-Forwards: 7\x000')).reason,
      ParseFailure.BadHeaderLine
    )
    assert.equal(
      parseFailure(options().replace('Max-Forwards: 70', 'Max-Forwards: 70\nX: y')).reason,
      ParseFailure.BadHeaderLine
    )
  })

  test('accepts quoted-pair escapes of control characters inside quoted strings (RFC 4475 3.1.1.2)', ({
    assert,
  }) => {
    // The "intmeth" torture message: BEL, NUL and DEL escaped in the To display name.
    const message = [
      "!interesting-Method0123456789_*+`.%indeed'~ sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com SIP/2.0",
      "Via: SIP/2.0/TCP host1.example.com;branch=z9hG4bK-.!%66*_+`'~",
      'To: "BEL:\\\x07 NUL:\\\x00 DEL:\\\x7F" <sip:1_unusual.URI~(to-be!sure)&isn\'t+it$/crazy?,/;;*@example.com>',
      "From: token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;fromParam''~+*_!.-%=%D1%80%D0%B0%D0%B1%D0%BE%D1%82%D0%B0%D1%8E%D1%89%D0%B8%D0%B9;tag=_token~1'+`*%!-.",
      'Call-ID: intmeth.word%ZK-!.*_+\'@word`~)(><:\\/"][?}{',
      "CSeq: 139122385 !interesting-Method0123456789_*+`.%indeed'~",
      'Max-Forwards: 255',
      "extensionHeader-!.%*+_`'~: \uFEFF\u5927\u505C\u96FB",
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n')
    const request = parseRequest(message)
    assert.equal(request.method, "!interesting-Method0123456789_*+`.%indeed'~")
    assert.equal(request.to.displayName, 'BEL:\x07 NUL:\x00 DEL:\x7F')
    // Outside a quoted string, or escaping nothing, a control character is still refused.
    assert.equal(
      parseFailure(options().replace('Max-Forwards: 70', 'Max-Forwards: 70\x07')).reason,
      ParseFailure.BadHeaderLine
    )
    assert.equal(
      parseFailure(options().replace('Max-Forwards: 70', 'Subject: "a\x07b"')).reason,
      ParseFailure.BadHeaderLine
    )
  })

  test('control characters: refused in any line wherever the CRLFs fall, accepted only escaped in quotes', ({
    assert,
  }) => {
    const cases: Array<[string, ParseFailure | 'ok']> = [
      ['Max-Forwards: 70\rX: y', ParseFailure.BadHeaderLine],
      ['Max-Forwards: 70\r', ParseFailure.BadHeaderLine],
      ['Max-Forwards: 70\r\r\nX: y', ParseFailure.BadHeaderLine],
      ['Max-Forwards: 70\n\nX: y', ParseFailure.BadHeaderLine],
      ['Max-Forwards: 70\r\n\nX: y', ParseFailure.BadHeaderLine],
      ['Max-Forwards: \x0b70', ParseFailure.BadHeaderLine],
      ['Max-Forwards: 70\x0c', ParseFailure.BadHeaderLine],
      ['Max-Forwards: 70\x1f', ParseFailure.BadHeaderLine],
      ['Max-Forwards: 70\x7f', ParseFailure.BadHeaderLine],
      ['Max-Forwards: 70\r\nSubject: "a\\\x01b"', 'ok'],
      // a CR cannot be escaped (RFC 3261 25.1): the line is refused all the same
      ['Max-Forwards: 70\r\nSubject: "a\\\rb"', ParseFailure.BadHeaderLine],
      ['Max-Forwards: 70\r\nSubject: a\\\x01b', ParseFailure.BadHeaderLine],
      ['Max-Forwards: 70\r\nSubject: "a\tb"', 'ok'],
    ]
    for (const [header, outcome] of cases) {
      const input = options().replace('Max-Forwards: 70', header)
      const result = parser.tryParse(Buffer.from(input))
      assert.equal(result.ok ? 'ok' : result.error.reason, outcome, JSON.stringify(header))
    }
    const startLine = options().replace('OPTIONS sip:', 'OPTIONS\x01 sip:')
    assert.equal(parseFailure(startLine).reason, ParseFailure.BadStartLine)
    const loneCr = options().replace('OPTIONS sip:carrier.example.net', 'OPTIONS sip:a\rb')
    assert.equal(parseFailure(loneCr).reason, ParseFailure.BadStartLine)
  })

  test('a request refused after its headers were read is answered from its own headers', ({
    assert,
  }) => {
    const input = options().replace('Max-Forwards: 70', 'Max-Forwards: many')
    const error = parseFailure(input)
    assert.equal(error.reason, ParseFailure.BadNumber)
    assert.deepEqual(error.envelope?.via, ['SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKopt1;rport'])
    assert.equal(error.envelope?.method, 'OPTIONS')
    assert.equal(error.envelope?.callId, 'opt-1@192.0.2.1')
    assert.equal(error.envelope?.cseq, '7 OPTIONS')
    assert.equal(error.envelope?.toAddress?.uri.toString(), 'sip:carrier.example.net')
    const response = createParseErrorResponse(error, 'tag1')!
    assert.equal(response.status, 400)
    assert.equal(response.headers.get('to'), '<sip:carrier.example.net>;tag=tag1')
    // A bad line among the headers, or a second Call-ID: answered, or not at all
    assert.equal(
      parseFailure(options().replace('Max-Forwards: 70', 'Max-Forwards 70')).envelope?.cseq,
      '7 OPTIONS'
    )
    const twoCallIds = options().replace('Max-Forwards: 70', 'Call-ID: other')
    assert.isUndefined(parseFailure(twoCallIds).envelope)
    const badVia = options().replace('Max-Forwards: 70', 'Max-Forwards: many\r\nVia: SIP/2.0/UDP')
    assert.isUndefined(parseFailure(badVia).envelope)
  })

  test('writes header names it has seen beyond any bound, and names like object properties, as they were', ({
    assert,
  }) => {
    const names = ['__proto__', 'constructor', 'toString', 'hasOwnProperty']
    for (let i = 0; i < 600; i++) names.push(`x-seen-${i}`)
    for (const name of names) {
      const request = parseRequest(options().replace('Max-Forwards: 70', `${name}: v`))
      const written = request.toString()
      const expected =
        new Map([
          ['__proto__', '__proto__'],
          ['constructor', 'Constructor'],
          ['toString', 'Tostring'],
          ['hasOwnProperty', 'Hasownproperty'],
        ]).get(name) ?? `X-Seen-${name.slice(7)}`
      assert.include(written, `\r\n${expected}: v\r\n`, name)
      assert.equal(parseRequest(written).headers.get(name), 'v')
    }
  })

  test('serializes the head as UTF-8 and the body as its bytes, Content-Length from the body', ({
    assert,
  }) => {
    const body = Buffer.from([0x00, 0xff, 0x0d, 0x0a, 0xc3, 0x28])
    const request = parseRequest(options().replace('Max-Forwards: 70', 'Subject: Jürgen ☎ 🎉'))
    request.body = body
    const written = request.toBuffer()
    const head = written.subarray(0, written.length - body.length).toString('utf8')
    assert.isTrue(written.subarray(written.length - body.length).equals(body))
    assert.include(head, 'Subject: Jürgen ☎ 🎉\r\n')
    assert.isTrue(head.endsWith(`Content-Length: ${body.length}\r\n\r\n`))
    assert.equal(Buffer.byteLength(head) + body.length, written.length)
    const again = parser.parse(written)
    assert.isTrue(again.body.equals(body))
  })

  test('rejects malformed header values with a reason per header', ({ assert }) => {
    const cases: Array<[string, string, ParseFailure]> = [
      ['CSeq: 7 OPTIONS', 'CSeq: seven OPTIONS', ParseFailure.BadCSeq],
      ['CSeq: 7 OPTIONS', 'CSeq: 4294967296 OPTIONS', ParseFailure.BadCSeq],
      ['CSeq: 7 OPTIONS', 'CSeq: 7 INVITE', ParseFailure.CSeqMethodMismatch],
      [
        'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKopt1;rport',
        'Via: SIP/2.0/UDP',
        ParseFailure.BadVia,
      ],
      [
        'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKopt1;rport',
        'Via: SIP/2.0/UDP 192.0.2.1:99999',
        ParseFailure.BadVia,
      ],
      [
        'From: <sip:ping@fluffycall.example>;tag=abc',
        'From: "unterminated <sip:a@b>',
        ParseFailure.BadNameAddress,
      ],
      [
        'From: <sip:ping@fluffycall.example>;tag=abc',
        'From: <sip:ping@>;tag=abc',
        ParseFailure.BadNameAddress,
      ],
      [
        'To: <sip:carrier.example.net>',
        'To: <sip:a@b>\r\nTo: <sip:c@d>',
        ParseFailure.DuplicateHeader,
      ],
      ['Max-Forwards: 70', 'Max-Forwards: many', ParseFailure.BadNumber],
      ['Max-Forwards: 70', 'Max-Forwards 70', ParseFailure.BadHeaderLine],
      ['Call-ID: opt-1@192.0.2.1', 'Call-ID: has space', ParseFailure.BadCallId],
      ['OPTIONS sip:carrier.example.net SIP/2.0', 'OPTIONS sip:[::1 SIP/2.0', ParseFailure.BadUri],
      ['Max-Forwards: 70', 'WWW-Authenticate: Digest realm="x', ParseFailure.BadAuthHeader],
    ]
    for (const [from, to, reason] of cases) {
      const error = parseFailure(options().replace(from, to))
      assert.equal(error.reason, reason, to)
    }
  })

  test('rejects a header section without its empty line', ({ assert }) => {
    const error = parseFailure('OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n')
    assert.equal(error.reason, ParseFailure.IncompleteHeaders)
  })

  test('never answers a malformed ACK', ({ assert }) => {
    const ack = invite().replace(/INVITE/g, 'ACK')
    const error = parseFailure(ack.slice(0, ack.length - 10))
    assert.equal(error.reason, ParseFailure.TruncatedBody)
    assert.isUndefined(createParseErrorResponse(error))
  })
})

/** A small deterministic generator, so that a failing case can be replayed. */
function mulberry32(seed: number): () => number {
  let state = seed
  return () => {
    state = (state + 0x6d2b79f5) | 0
    let t = Math.imul(state ^ (state >>> 15), 1 | state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const INTERESTING = Buffer.from(':;,<>"\\@[]= \t\r\n\x00\xff%?&/')

function mutate(input: Buffer, random: () => number): Buffer {
  const bytes = [...input]
  const count = 1 + Math.floor(random() * 8)
  for (let step = 0; step < count; step++) {
    const position = Math.floor(random() * (bytes.length + 1))
    const choice = random()
    if (choice < 0.3) {
      bytes[position] = Math.floor(random() * 256)
    } else if (choice < 0.55) {
      bytes.splice(position, 0, INTERESTING[Math.floor(random() * INTERESTING.length)])
    } else if (choice < 0.75) {
      bytes.splice(position, 1 + Math.floor(random() * 16))
    } else if (choice < 0.9) {
      const length = Math.floor(random() * 40)
      bytes.splice(position, 0, ...bytes.slice(position, position + length))
    } else {
      bytes[position] = INTERESTING[Math.floor(random() * INTERESTING.length)]
    }
  }
  return Buffer.from(bytes)
}

test.group('SipMessageParser / fuzz', () => {
  test('random mutations yield a message or a SipParseError, nothing else', ({ assert }) => {
    const random = mulberry32(20240611)
    const seeds = [
      Buffer.from(
        invite({ extra: ['Route: <sip:p1.example.com;lr>, <sip:[2001:db8::1]:5070;lr>'] })
      ),
      Buffer.from(options()),
      Buffer.from(
        'SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/UDP h:5060;branch=z9hG4bK1;rport=5060;received=192.0.2.1\r\n' +
          'From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\r\nCall-ID: x\r\nCSeq: 1 REGISTER\r\n' +
          'WWW-Authenticate: Digest realm="h", nonce="abc/def=", qop="auth,auth-int", algorithm=SHA-256\r\nContent-Length: 0\r\n\r\n'
      ),
    ]
    let parsed = 0
    let rejected = 0
    for (let iteration = 0; iteration < 6000; iteration++) {
      const input = mutate(seeds[iteration % seeds.length], random)
      const result = parser.tryParse(input)
      if (result.ok) {
        parsed++
        // What we accept, we must be able to write and read back.
        const again = parser.tryParse(result.message.toBuffer())
        if (!again.ok) {
          assert.fail(
            `re-parse failed (${again.error.reason}) for ${JSON.stringify(input.toString('latin1'))}`
          )
        }
      } else {
        rejected++
        assert.instanceOf(result.error, SipParseError)
        if (result.error.reason === ParseFailure.Internal) {
          assert.fail(
            `internal error ${String(result.error.cause)} for ${JSON.stringify(input.toString('latin1'))}`
          )
        }
      }
      try {
        parser.parse(input)
      } catch (error) {
        assert.instanceOf(error, SipParseError)
      }
    }
    assert.isAbove(parsed, 100)
    assert.isAbove(rejected, 100)
  })

  test('SipRequest values round-trip', ({ assert }) => {
    const request = parseRequest(options())
    assert.instanceOf(request, SipRequest)
    assert.equal(parseRequest(request.toString()).toString(), request.toString())
  })
})
