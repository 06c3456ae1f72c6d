import dgram from 'node:dgram'
import net from 'node:net'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes, randomInt } from 'node:crypto'
import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import env from '#start/env'
import WebSocket from 'ws'
import type SipTransportLayer from '#sip/transport/sip_transport_layer'
import { requireTool, runSipp } from '#tests/support/sipp_runner'

async function sipLayer(): Promise<SipTransportLayer> {
  const layer = await app.container.make('sip.transport')
  if (!layer.started) {
    throw new Error('the SIP provider did not start the transport layer')
  }
  return layer
}

function port(layer: SipTransportLayer, protocol: 'udp' | 'tcp' | 'tls'): number {
  const address = layer.localAddress(protocol)
  if (!address) throw new Error(`SIP ${protocol} is not listening`)
  return address.port
}

async function freePort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const { port: free } = server.address() as net.AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return free
}

async function waitForListener(target: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const connected = await new Promise<boolean>((resolve) => {
      const socket = net.connect(target, '127.0.0.1')
      socket.once('connect', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
    })
    if (connected) return
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${target}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Random bytes, and real requests with one part broken, so the parser sees both kinds. */
function garbageDatagram(index: number): Buffer {
  if (index % 4 !== 0) {
    return randomBytes(randomInt(1, 1400))
  }
  const request = [
    'OPTIONS sip:fluffycall@127.0.0.1 SIP/2.0',
    `Via: SIP/2.0/UDP 127.0.0.2:5999;branch=z9hG4bKjunk${index};rport`,
    'Max-Forwards: 70',
    'To: <sip:fluffycall@127.0.0.1>',
    'From: <sip:junk@127.0.0.2>;tag=j',
    `Call-ID: junk-${index}`,
    'CSeq: 1 OPTIONS',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n')
  const bytes = Buffer.from(request)
  for (let flips = 0; flips < 3; flips++) {
    bytes[randomInt(0, bytes.length)] = randomInt(0, 256)
  }
  return bytes
}

function openWebSocket(url: string, origin: string) {
  const client = new WebSocket(url, ['sip'], { origin })
  const messages: string[] = []
  client.on('message', (data) => messages.push(data.toString()))
  const outcome = new Promise<{ opened: boolean; status?: number }>((resolve) => {
    client.once('open', () => resolve({ opened: true }))
    client.once('unexpected-response', (_request, response) =>
      resolve({ opened: false, status: response.statusCode })
    )
    client.once('error', () => resolve({ opened: false }))
  })
  return { client, messages, outcome }
}

test.group('SIP transports against real peers', () => {
  test('sipp OPTIONS over UDP is answered 200', async ({ assert }) => {
    const layer = await sipLayer()
    const result = await runSipp('options_uac.xml', `127.0.0.1:${port(layer, 'udp')}`, ['-t', 'u1'])
    assert.equal(result.code, 0, result.output)
  })

  test('sipp OPTIONS over TCP is answered 200', async ({ assert }) => {
    const layer = await sipLayer()
    const result = await runSipp('options_uac.xml', `127.0.0.1:${port(layer, 'tcp')}`, ['-t', 't1'])
    assert.equal(result.code, 0, result.output)
  })

  test('sipp OPTIONS over TLS (stunnel4 in front of sipp’s TCP) is answered 200', async ({
    assert,
  }) => {
    requireTool('stunnel4', 'stunnel4')
    const layer = await sipLayer()
    const plainPort = await freePort()
    const directory = mkdtempSync(join(tmpdir(), 'fluffycall-stunnel-'))
    const configPath = join(directory, 'stunnel.conf')
    writeFileSync(
      configPath,
      [
        'foreground = yes',
        'pid =',
        'debug = 3',
        '[sip-tls]',
        'client = yes',
        `accept = 127.0.0.1:${plainPort}`,
        `connect = 127.0.0.1:${port(layer, 'tls')}`,
        // The development certificate is self-signed; what is tested here is our TLS server.
        'verifyChain = no',
        '',
      ].join('\n')
    )
    const stunnel: ChildProcess = spawn('stunnel4', [configPath], { stdio: 'ignore' })
    try {
      await waitForListener(plainPort)
      const result = await runSipp('options_uac.xml', `127.0.0.1:${plainPort}`, ['-t', 't1'])
      assert.equal(result.code, 0, result.output)
    } finally {
      stunnel.kill('SIGTERM')
    }
  })

  test('after 2,000 garbage datagrams OPTIONS is still answered and nothing crashed', async ({
    assert,
  }) => {
    const layer = await sipLayer()
    const target = port(layer, 'udp')
    const failuresBefore = layer.stats.parseFailures
    const limitedBefore = layer.stats.rateLimited
    const socket = dgram.createSocket('udp4')
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.2', () => resolve()))
    try {
      for (let index = 0; index < 2000; index++) {
        await new Promise<void>((resolve, reject) =>
          socket.send(garbageDatagram(index), target, '127.0.0.1', (error) =>
            error ? reject(error) : resolve()
          )
        )
        if (index % 50 === 49) {
          // Lets the server drain its socket, which shares this process's event loop.
          await new Promise((resolve) => setTimeout(resolve, 1))
        }
      }
    } finally {
      await new Promise<void>((resolve) => socket.close(() => resolve()))
    }
    // The datagrams are still queued in the socket; wait until the layer has gone through them.
    let seen = -1
    while (seen !== layer.stats.received + layer.stats.rateLimited) {
      seen = layer.stats.received + layer.stats.rateLimited
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    const parsedAndFailed = layer.stats.parseFailures - failuresBefore
    const dropped = layer.stats.rateLimited - limitedBefore
    assert.isAbove(parsedAndFailed, 100, 'the parser saw the garbage')
    assert.isAbove(parsedAndFailed + dropped, 1000, 'the rest were dropped by the rate limiter')

    const result = await runSipp('options_uac.xml', `127.0.0.1:${target}`, ['-t', 'u1'])
    assert.equal(result.code, 0, result.output)
    assert.isTrue(layer.started)
  })

  test('WebSocket: an allowed Origin gets OPTIONS answered, a foreign one gets 403', async ({
    assert,
  }) => {
    const layer = await sipLayer()
    const deadline = Date.now() + 5000
    while (!layer.webSocket?.attached && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    assert.isTrue(layer.webSocket?.attached, 'the SIP WebSocket is served by the HTTP server')
    const url = `ws://127.0.0.1:${env.get('PORT')}/sip`
    const appOrigin = new URL(env.get('APP_URL')).origin

    const allowed = openWebSocket(url, appOrigin)
    try {
      assert.deepEqual(await allowed.outcome, { opened: true })
      allowed.client.send(
        [
          'OPTIONS sip:fluffycall@127.0.0.1 SIP/2.0',
          'Via: SIP/2.0/WS h7kq2m9x1a.invalid;branch=z9hG4bKwse2e;rport',
          'Max-Forwards: 70',
          'To: <sip:fluffycall@127.0.0.1>',
          'From: <sip:browser@fluffycall.test>;tag=ws1',
          'Call-ID: ws-e2e-1',
          'CSeq: 1 OPTIONS',
          'Contact: <sip:browser@h7kq2m9x1a.invalid;transport=ws>',
          'Content-Length: 0',
          '',
          '',
        ].join('\r\n')
      )
      const deadlineReply = Date.now() + 5000
      while (allowed.messages.length === 0 && Date.now() < deadlineReply) {
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      assert.match(allowed.messages[0] ?? '', /^SIP\/2\.0 200 OK\r\n/)
      assert.match(allowed.messages[0] ?? '', /Call-ID: ws-e2e-1/)
    } finally {
      allowed.client.terminate()
    }

    const foreign = openWebSocket(url, 'https://evil.example')
    assert.deepEqual(await foreign.outcome, { opened: false, status: 403 })
  })
})
