import dgram from 'node:dgram'
import { randomBytes } from 'node:crypto'
import { test } from '@japa/runner'
import CallRecord from '#calls/models/call_record'
import { startB2bua } from '#tests/support/calls'
import { sipUdpPort } from '#tests/e2e/calls/b2bua_races_peers'

/**
 * A peer's Request-URI whose user part the application cannot read: escapes the grammar allows
 * (RFC 3261 25.1: escaped = "%" HEXDIG HEXDIG) but that are no UTF-8. The B2BUA answers 400 at
 * once, over a real UDP socket; before, decoding it threw inside the INVITE handler (500).
 */

const SDP = [
  'v=0',
  'o=- 1 1 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=audio 40000 RTP/AVP 8',
  'a=rtpmap:8 PCMA/8000',
  '',
].join('\r\n')

function invite(user: string, port: number, sipPort: number) {
  const branch = `z9hG4bK${randomBytes(6).toString('hex')}`
  return [
    `INVITE sip:${user}@127.0.0.1:${sipPort} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=${branch};rport`,
    'Max-Forwards: 70',
    `From: <sip:caller@127.0.0.1:${port}>;tag=${randomBytes(4).toString('hex')}`,
    `To: <sip:${user}@127.0.0.1>`,
    `Call-ID: ${randomBytes(8).toString('hex')}@127.0.0.1`,
    'CSeq: 1 INVITE',
    `Contact: <sip:caller@127.0.0.1:${port}>`,
    'Content-Type: application/sdp',
    `Content-Length: ${Buffer.byteLength(SDP)}`,
    '',
    SDP,
  ].join('\r\n')
}

/** Sends one INVITE from a fresh socket and returns the first final answer's status line. */
async function finalAnswer(user: string): Promise<string> {
  const sipPort = await sipUdpPort()
  const socket = dgram.createSocket('udp4')
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()))
  try {
    const answered = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no final answer to INVITE sip:${user}`)),
        5000
      )
      socket.on('message', (message) => {
        const statusLine = message.toString('utf8').split('\r\n')[0]
        if (/^SIP\/2\.0 [2-6]\d\d /.test(statusLine)) {
          clearTimeout(timer)
          resolve(statusLine)
        }
      })
    })
    socket.send(invite(user, socket.address().port, sipPort), sipPort, '127.0.0.1')
    return await answered
  } finally {
    socket.close()
  }
}

test.group('B2BUA: unreadable Request-URI user parts', (group) => {
  group.setup(async () => {
    await startB2bua()
  })

  test('escapes that are no UTF-8 get 400, no CDR is written, and a readable one still gets the digest challenge', async ({
    assert,
  }) => {
    const before = await CallRecord.query().count('* as total').first()
    assert.match(await finalAnswer('%FF%FE4930123'), /^SIP\/2\.0 400 /)
    assert.match(await finalAnswer('%C3'), /^SIP\/2\.0 400 /)
    assert.match(
      await finalAnswer('%2B4930123'),
      /^SIP\/2\.0 401 /,
      'a readable escape goes on to authentication'
    )
    const after = await CallRecord.query().count('* as total').first()
    assert.equal(after?.$extras.total, before?.$extras.total)
  }).timeout(20_000)
})
