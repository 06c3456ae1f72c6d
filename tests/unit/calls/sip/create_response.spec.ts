import { test } from '@japa/runner'
import { createResponse } from '#sip/message/create_response'
import { invite, parseRequest, parseResponse } from '#tests/unit/calls/sip/sip_fixtures'

test.group('createResponse', () => {
  test('copies Via, From, To, Call-ID and CSeq and tags To (RFC 3261 8.2.6)', ({ assert }) => {
    const request = parseRequest(
      invite({ extra: ['Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp;received=192.0.2.9'] })
    )
    const response = createResponse(request, 180, { toTag: 'uas-1' })
    assert.equal(response.status, 180)
    assert.equal(response.reason, 'Ringing')
    assert.deepEqual(response.via.map(String), request.via.map(String))
    assert.equal(response.headers.get('from'), request.headers.get('from'))
    assert.equal(response.to.tag, 'uas-1')
    assert.equal(response.to.uri.toString(), request.to.uri.toString())
    assert.equal(response.callId, request.callId)
    assert.equal(response.cseq.toString(), '314159 INVITE')

    const parsed = parseResponse(response.toString())
    assert.equal(parsed.to.tag, 'uas-1')
    assert.include(response.toString(), 'Content-Length: 0\r\n\r\n')
  })

  test('leaves To alone for a 100 Trying and echoes Timestamp', ({ assert }) => {
    const request = parseRequest(invite({ extra: ['Timestamp: 54'] }))
    const trying = createResponse(request, 100)
    assert.isUndefined(trying.to.tag)
    assert.equal(trying.headers.get('timestamp'), '54')
    assert.equal(trying.reason, 'Trying')
  })

  test('keeps an existing To tag and generates one when none is given', ({ assert }) => {
    const request = parseRequest(
      invite().replace(
        'To: Bob <sip:bob@biloxi.example.com>',
        'To: Bob <sip:bob@biloxi.example.com>;tag=dialog'
      )
    )
    assert.equal(createResponse(request, 200, { toTag: 'other' }).to.tag, 'dialog')
    const fresh = createResponse(parseRequest(invite()), 486)
    assert.match(fresh.to.tag ?? '', /^[A-Za-z0-9_-]{8,}$/)
  })

  test('carries a body with its Content-Type and length', ({ assert }) => {
    const response = createResponse(parseRequest(invite()), 200, {
      toTag: 't',
      body: Buffer.from('v=0\r\n'),
      contentType: 'application/sdp',
    })
    const parsed = parseResponse(response.toString())
    assert.equal(parsed.contentType, 'application/sdp')
    assert.equal(parsed.body.toString(), 'v=0\r\n')
  })
})
