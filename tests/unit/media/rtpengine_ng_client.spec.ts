import { test } from '@japa/runner'
import dgram from 'node:dgram'
import { once } from 'node:events'
import { BencodeError, decode, encode, type BencodeDictionary } from '#media/rtpengine/bencode'
import NgClient, { NgCommandError } from '#media/rtpengine/ng_client'
import { MediaCapacityError } from '#media/types'
import RtpengineMediaEngine from '#media/rtpengine/rtpengine_media_engine'

/** A stand-in for rtpengine's ng socket: records each datagram, answers as `reply` says. */
async function fakeRtpengine(
  reply: (request: BencodeDictionary, count: number) => BencodeDictionary | null
) {
  const socket = dgram.createSocket('udp4')
  socket.bind(0, '127.0.0.1')
  await once(socket, 'listening')
  const seen: Array<{ cookie: string; request: BencodeDictionary }> = []
  socket.on('message', (message, from) => {
    const space = message.indexOf(0x20)
    const cookie = message.toString('latin1', 0, space)
    const request = decode(message.subarray(space + 1)) as BencodeDictionary
    seen.push({ cookie, request })
    const answer = reply(request, seen.length)
    if (answer)
      socket.send(
        Buffer.concat([Buffer.from(`${cookie} `), encode(answer)]),
        from.port,
        from.address
      )
  })
  return { port: socket.address().port, seen, close: () => void socket.close() }
}

test.group('rtpengine ng protocol: bencode', () => {
  test('encodes strings, integers, lists and dictionaries with their keys in byte order', ({
    assert,
  }) => {
    assert.equal(
      encode({ sdp: 'v=0', command: 'offer', flags: ['trust-address'], ptime: 20 }).toString(),
      'd7:command5:offer5:flagsl13:trust-addresse5:ptimei20e3:sdp3:v=0e'
    )
    assert.equal(encode('grüß').toString('latin1'), '6:gr\u00c3\u00bc\u00c3\u009f')
    assert.equal(encode(-3).toString(), 'i-3e')
    assert.throws(() => encode(1.5), BencodeError)
  })

  test('decodes what it encodes, UTF-8 included', ({ assert }) => {
    const value = { result: 'ok', calls: ['a', 'b'], totals: { RTP: { packets: 40 } }, sdp: 'ä' }
    assert.deepEqual(decode(encode(value)), value)
    assert.deepEqual(decode(Buffer.from('le')), [])
  })

  test('refuses truncated, malformed and too deeply nested input', ({ assert }) => {
    for (const bad of ['d6:result', '5:ab', 'i12', 'i01e', 'i-0e', 'x', '4:pong4:more', '']) {
      assert.throws(() => decode(Buffer.from(bad)), BencodeError)
    }
    assert.throws(() => decode(Buffer.from('l'.repeat(40) + 'e'.repeat(40))), BencodeError)
  })
})

test.group('rtpengine ng protocol: client', () => {
  test('sends the command under a cookie and resolves with the reply to that cookie', async ({
    assert,
    cleanup,
  }) => {
    const rtpengine = await fakeRtpengine(() => ({ result: 'pong' }))
    const client = new NgClient({ host: '127.0.0.1', port: rtpengine.port })
    cleanup(() => (client.close(), rtpengine.close()))
    const [first, second] = await Promise.all([
      client.command('ping'),
      client.command('query', { 'call-id': 'abc' }),
    ])
    assert.deepEqual(first, { result: 'pong' })
    assert.deepEqual(second, { result: 'pong' })
    assert.lengthOf(rtpengine.seen, 2)
    assert.notEqual(rtpengine.seen[0].cookie, rtpengine.seen[1].cookie)
    assert.deepEqual(rtpengine.seen[1].request, { 'call-id': 'abc', 'command': 'query' })
  })

  test('a lost request is sent again with the same cookie', async ({ assert, cleanup }) => {
    // The first datagram goes unanswered, as if it were lost on the way
    const rtpengine = await fakeRtpengine((_request, count) =>
      count === 1 ? null : { result: 'ok' }
    )
    const client = new NgClient({ host: '127.0.0.1', port: rtpengine.port, retransmitMs: 20 })
    cleanup(() => (client.close(), rtpengine.close()))
    assert.deepEqual(await client.command('delete', { 'call-id': 'x' }), { result: 'ok' })
    assert.isAtLeast(rtpengine.seen.length, 2)
    assert.equal(rtpengine.seen[1].cookie, rtpengine.seen[0].cookie)
  })

  test('rtpengine not answering is a MediaCapacityError naming it, not a hang', async ({
    assert,
    cleanup,
  }) => {
    const rtpengine = await fakeRtpengine(() => null)
    const client = new NgClient({
      host: '127.0.0.1',
      port: rtpengine.port,
      timeoutMs: 150,
      retransmitMs: 50,
    })
    cleanup(() => (client.close(), rtpengine.close()))
    const error = await client.command('offer').catch((caught) => caught)
    assert.instanceOf(error, MediaCapacityError)
    assert.equal(error.resource, 'media_engine')
    assert.include(error.message, `127.0.0.1:${rtpengine.port}`)
    assert.include(error.message, '"offer"')
  })

  test('nobody listening at all fails the same way', async ({ assert, cleanup }) => {
    const rtpengine = await fakeRtpengine(() => null)
    const port = rtpengine.port
    rtpengine.close()
    const client = new NgClient({ host: '127.0.0.1', port, timeoutMs: 100 })
    cleanup(() => client.close())
    await assert.rejects(() => client.command('ping'), MediaCapacityError)
  })

  test("rtpengine's error result is an NgCommandError with its reason; out of ports is a capacity error", async ({
    assert,
    cleanup,
  }) => {
    let reason = 'Unknown call-id'
    const rtpengine = await fakeRtpengine(() => ({ 'result': 'error', 'error-reason': reason }))
    const client = new NgClient({ host: '127.0.0.1', port: rtpengine.port })
    cleanup(() => (client.close(), rtpengine.close()))
    const error = await client.command('query').catch((caught) => caught)
    assert.instanceOf(error, NgCommandError)
    assert.equal(error.message, 'rtpengine query: Unknown call-id')

    reason = 'Ran out of ports'
    const full = await client.command('offer').catch((caught) => caught)
    assert.instanceOf(full, MediaCapacityError)
    assert.equal(full.resource, 'media_engine')
    assert.equal(full.message, 'rtpengine offer: Ran out of ports')
  })
})

test.group('rtpengine engine: a dead node’s sessions', () => {
  test('the legs carry their owner in the call-id; endSessionsOf deletes exactly the calls of that owner', async ({
    assert,
    cleanup,
  }) => {
    const open = new Set<string>()
    const rtpengine = await fakeRtpengine((request) => {
      if (request.command === 'list') return { result: 'ok', calls: [...open] }
      if (request.command !== 'delete') return { result: 'ok' }
      const callId = String(request['call-id'])
      open.delete(callId)
      // One of them ended between the list and its delete
      if (callId.endsWith('gone')) return { 'result': 'error', 'error-reason': 'Unknown call-id' }
      return { result: 'ok' }
    })
    const engine = new RtpengineMediaEngine({
      ng: { host: '127.0.0.1', port: rtpengine.port },
      innerAddress: '127.0.0.1',
      owner: 'node-a',
    })
    cleanup(() => (engine.ng.close(), rtpengine.close()))
    const leg = await engine.createRtpLeg()
    assert.match(
      (leg as unknown as { callId: string }).callId,
      /^fluffycall\/node-a\/[0-9a-f-]{36}$/
    )

    for (const id of [
      'fluffycall/node-b/1',
      'fluffycall/node-b/gone',
      'fluffycall/node-a/2',
      // Another owner whose name starts like node-b's, and a leg of an engine without owner
      'fluffycall/node-b%2Fx/3',
      'fluffycall-4',
    ])
      open.add(id)
    assert.equal(await engine.endSessionsOf('node-b'), 2)
    assert.sameMembers(
      [...open],
      ['fluffycall/node-a/2', 'fluffycall/node-b%2Fx/3', 'fluffycall-4']
    )
    const list = rtpengine.seen.find((entry) => entry.request.command === 'list')!
    assert.isAbove(Number(list.request.limit), 1000, 'more than rtpengine’s default 32 calls')
    assert.equal(await engine.endSessionsOf('node-c'), 0)
  })
})
