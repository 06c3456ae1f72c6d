import { test } from '@japa/runner'
import SipStreamFramer, { FramerState, type FramerEvent } from '#sip/message/sip_stream_framer'
import SipMessageParser from '#sip/message/sip_message_parser'
import SipParseError from '#sip/message/sip_parse_error'
import { ParseFailure } from '#sip/message/parse_failure'
import { invite, options, parseRequest } from '#tests/unit/calls/sip/sip_fixtures'

function messages(events: FramerEvent[]): string[] {
  return events.flatMap((event) => (event.type === 'message' ? [event.bytes.toString()] : []))
}

test.group('SipStreamFramer', () => {
  test('splits two messages that arrive in one chunk', ({ assert }) => {
    const framer = new SipStreamFramer()
    const events = framer.push(Buffer.from(invite() + options()))
    assert.deepEqual(messages(events), [invite(), options()])
    assert.equal(parseRequest(messages(events)[0]).method, 'INVITE')
    assert.equal(framer.buffered, 0)
    assert.equal(framer.state, FramerState.AwaitingHeaders)
  })

  test('reassembles one message spread over many chunks', ({ assert }) => {
    const framer = new SipStreamFramer()
    const bytes = Buffer.from(invite())
    const events: FramerEvent[] = []
    for (let offset = 0; offset < bytes.length; offset += 7) {
      events.push(...framer.push(bytes.subarray(offset, offset + 7)))
    }
    assert.deepEqual(messages(events), [invite()])
  })

  test('waits for the body announced by Content-Length', ({ assert }) => {
    const framer = new SipStreamFramer()
    const text = invite()
    const split = text.indexOf('v=0') + 5
    assert.deepEqual(framer.push(Buffer.from(text.slice(0, split))), [])
    assert.equal(framer.state, FramerState.AwaitingBody)
    assert.deepEqual(messages(framer.push(Buffer.from(text.slice(split)))), [text])
  })

  test('answers a CRLFCRLF ping with a single CRLF pong and reports it as a keep-alive', ({
    assert,
  }) => {
    const framer = new SipStreamFramer()
    const events = framer.push(Buffer.from('\r\n\r\n'))
    assert.lengthOf(events, 1)
    assert.equal(events[0].type, 'keep-alive-ping')
    assert.equal(events[0].type === 'keep-alive-ping' && events[0].reply.toString(), '\r\n')
    assert.isFalse(events.some((event) => event.type === 'error'))
    assert.equal(framer.state, FramerState.AwaitingHeaders)
  })

  test('handles keep-alives between messages', ({ assert }) => {
    const framer = new SipStreamFramer()
    const events = framer.push(
      Buffer.from(`\r\n\r\n${options()}\r\n\r\n\r\n${options('z9hG4bK2')}`)
    )
    assert.deepEqual(
      events.map((event) => event.type),
      ['keep-alive-ping', 'message', 'keep-alive-ping', 'keep-alive-pong', 'message']
    )
  })

  test('reports a lone CRLF as a pong', ({ assert }) => {
    const framer = new SipStreamFramer()
    assert.deepEqual(framer.push(Buffer.from('\r\n')), [{ type: 'keep-alive-pong' }])
  })

  test('fails the stream on a bad Content-Length and stays failed', ({ assert }) => {
    const framer = new SipStreamFramer()
    const events = framer.push(
      Buffer.from(options().replace('Content-Length: 0', 'Content-Length: x'))
    )
    assert.lengthOf(events, 1)
    assert.equal(events[0].type, 'error')
    if (events[0].type === 'error') {
      assert.instanceOf(events[0].error, SipParseError)
      assert.equal(events[0].error.reason, ParseFailure.BadContentLength)
    }
    assert.equal(framer.state, FramerState.Failed)
    assert.deepEqual(framer.push(Buffer.from(options())), [])
  })

  test('fails the stream when a message would exceed the size limit', ({ assert }) => {
    const framer = new SipStreamFramer(new SipMessageParser({ maxMessageSize: 1024 }))
    const announced = framer.push(
      Buffer.from(options().replace('Content-Length: 0', 'Content-Length: 5000'))
    )
    assert.equal(
      announced[0].type === 'error' && announced[0].error.reason,
      ParseFailure.MessageTooLarge
    )

    const endless = new SipStreamFramer(new SipMessageParser({ maxMessageSize: 1024 }))
    const events = endless.push(Buffer.from(`OPTIONS sip:a@b SIP/2.0\r\nX: ${'y'.repeat(2000)}`))
    assert.equal(events[0].type === 'error' && events[0].error.reason, ParseFailure.MessageTooLarge)
  })

  test('garbage in random chunks produces events, never exceptions', ({ assert }) => {
    let seed = 42
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff
      return seed / 0x80000000
    }
    for (let round = 0; round < 200; round++) {
      const framer = new SipStreamFramer(new SipMessageParser({ maxMessageSize: 4096 }))
      for (let chunk = 0; chunk < 20; chunk++) {
        const bytes = Buffer.from(
          Array.from({ length: Math.floor(random() * 300) }, () =>
            random() < 0.1 ? 0x0d : Math.floor(random() * 256)
          )
        )
        const events = framer.push(bytes)
        for (const event of events) {
          assert.oneOf(event.type, ['message', 'keep-alive-ping', 'keep-alive-pong', 'error'])
        }
      }
    }
  })
})
