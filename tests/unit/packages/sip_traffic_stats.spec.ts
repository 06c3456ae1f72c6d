import { test } from '@japa/runner'
import { SipMessageParser, SipTrafficStats } from '#sip'

const parser = new SipMessageParser({ maxMessageSize: 65_536 })

function parse(text: string) {
  const result = parser.tryParse(Buffer.from(text.replace(/\n/g, '\r\n')))
  if (!result.ok) throw new Error(`test message does not parse: ${result.error.reason}`)
  return result.message
}

const headers = (cseq: string) =>
  `Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\nFrom: <sip:a@x>;tag=1\nTo: <sip:b@x>\nCall-ID: c1\nCSeq: ${cseq}\nContent-Length: 0\n\n`

test.group('SIP traffic stats (packages/sip)', () => {
  test('requests by method, responses by the method they answer and class, REGISTER answers by status', ({
    assert,
  }) => {
    const stats = new SipTrafficStats()
    stats.count(parse(`REGISTER sip:x SIP/2.0\n${headers('1 REGISTER')}`), 'in')
    stats.count(parse(`SIP/2.0 401 Unauthorized\n${headers('1 REGISTER')}`), 'out')
    stats.count(parse(`SIP/2.0 200 OK\n${headers('2 REGISTER')}`), 'out')
    stats.count(parse(`FOOBAR sip:x SIP/2.0\n${headers('1 FOOBAR')}`), 'in')
    stats.count(parse(`SIP/2.0 180 Ringing\n${headers('1 INVITE')}`), 'in')

    assert.deepEqual(stats.rows(), [
      { direction: 'in', method: 'REGISTER', statusClass: null, count: 1 },
      { direction: 'in', method: 'other', statusClass: null, count: 1 },
      { direction: 'out', method: 'REGISTER', statusClass: '4xx', count: 1 },
      { direction: 'out', method: 'REGISTER', statusClass: '2xx', count: 1 },
      { direction: 'in', method: 'INVITE', statusClass: '1xx', count: 1 },
    ])
    assert.deepEqual(
      [...stats.registerAnswers],
      [
        [401, 1],
        [200, 1],
      ]
    )
  })
  test('the method of a response is the CSeq word after the number, however spaced', ({
    assert,
  }) => {
    const stats = new SipTrafficStats()
    stats.count(parse(`SIP/2.0 200 OK\n${headers('1 \t  BYE  ')}`), 'in')
    stats.count(parse(`SIP/2.0 200 OK\n${headers('\t2\tINVITE')}`), 'in')
    stats.count(parse(`SIP/2.0 486 Busy Here\n${headers('3 FOO')}`), 'in')
    // Written by hand, not by the parser: spaces and tabs around and between the words
    const spaced = parse(`SIP/2.0 200 OK\n${headers('4 BYE')}`)
    spaced.headers.set('CSeq', ' \t 4 \t  BYE \t')
    stats.count(spaced, 'in')
    const bare = parse(`SIP/2.0 200 OK\n${headers('5 BYE')}`)
    bare.headers.set('CSeq', '5')
    stats.count(bare, 'in')
    assert.deepEqual(stats.rows(), [
      { direction: 'in', method: 'BYE', statusClass: '2xx', count: 2 },
      { direction: 'in', method: 'INVITE', statusClass: '2xx', count: 1 },
      { direction: 'in', method: 'other', statusClass: '4xx', count: 1 },
      { direction: 'in', method: 'other', statusClass: '2xx', count: 1 },
    ])
  })
})
