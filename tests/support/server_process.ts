import { spawn, type ChildProcess } from 'node:child_process'
import dgram from 'node:dgram'
import { randomBytes } from 'node:crypto'
import app from '@adonisjs/core/services/app'
import { isBound } from '#tests/support/sip_peers'

/**
 * The real server process (bin/server.ts) for tests of what only a whole process shows: crash
 * recovery, SIGTERM drain, exit codes. It runs on the test database (SQLITE_FILE is inherited).
 */

export interface ServerProcess {
  child: ChildProcess
  /** The last 5,000 characters the server wrote to stderr. */
  stderr(): string
  /** Resolves with the exit code (null when a signal ended it) once the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** Up means: SIP UDP bound and /readyz answering (providers ready, the B2BUA taking calls). */
export async function startServer(env: NodeJS.ProcessEnv, sipPort: number): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', '@poppinss/ts-exec', 'bin/server.ts'], {
    cwd: app.makePath(),
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr!.on('data', (chunk) => (stderr = (stderr + chunk).slice(-5000)))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal }))
  )
  const deadline = Date.now() + 30_000
  while (!isBound('udp', sipPort) || !(await serverReady(env.PORT!))) {
    if (child.exitCode !== null) throw new Error(`the server exited ${child.exitCode}: ${stderr}`)
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(
        `the server was not ready (SIP UDP ${sipPort}, /readyz) within 30 s: ${stderr}`
      )
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return { child, stderr: () => stderr, exited }
}

export async function serverReady(port: string) {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/readyz`)
    return response.ok
  } catch {
    return false
  }
}

/** Polls `probe` every 100 ms until it returns something truthy; fails after `ms`. */
export async function until<T>(
  what: string,
  ms: number,
  probe: () => Promise<T | null | undefined>
): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await probe()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

export interface SipAnswer {
  status: number
  reason: string
  /** Header names in lower case; the first value of each. */
  headers: Map<string, string>
}

/**
 * Sends one INVITE (with a PCMA offer, no credentials) over UDP and resolves with the final
 * response, which it ACKs; null when nothing final came within `ms`.
 */
export async function probeInvite(
  sipPort: number,
  callee: string,
  ms = 3000
): Promise<SipAnswer | null> {
  const socket = dgram.createSocket('udp4')
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()))
  const localPort = socket.address().port
  const token = randomBytes(6).toString('hex')
  const branch = `z9hG4bK${token}`
  const callId = `${token}@127.0.0.1`
  const fromTag = token.slice(0, 8)
  const body = [
    'v=0',
    'o=probe 1 1 IN IP4 127.0.0.1',
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    'm=audio 9 RTP/AVP 8',
    'a=rtpmap:8 PCMA/8000',
    'a=sendrecv',
    '',
  ].join('\r\n')
  const common = (method: string) => [
    `Via: SIP/2.0/UDP 127.0.0.1:${localPort};branch=${branch};rport`,
    'Max-Forwards: 70',
    `From: <sip:probe@127.0.0.1>;tag=${fromTag}`,
    `Call-ID: ${callId}`,
    `CSeq: 1 ${method}`,
  ]
  const invite = [
    `INVITE sip:${callee}@127.0.0.1:${sipPort} SIP/2.0`,
    ...common('INVITE'),
    `To: <sip:${callee}@127.0.0.1>`,
    `Contact: <sip:probe@127.0.0.1:${localPort}>`,
    'Content-Type: application/sdp',
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n')
  try {
    return await new Promise<SipAnswer | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), ms)
      socket.on('message', (bytes) => {
        const answer = parseResponse(bytes.toString('latin1'))
        if (!answer || answer.status < 200) return
        clearTimeout(timer)
        // A final non-2xx answer is ACKed in its transaction (same branch), To with its tag.
        const ack = [
          `ACK sip:${callee}@127.0.0.1:${sipPort} SIP/2.0`,
          ...common('ACK'),
          `To: ${answer.headers.get('to')}`,
          'Content-Length: 0',
          '',
          '',
        ].join('\r\n')
        socket.send(ack, sipPort, '127.0.0.1', () => resolve(answer))
      })
      socket.send(invite, sipPort, '127.0.0.1')
    })
  } finally {
    socket.close()
  }
}

function parseResponse(text: string): SipAnswer | null {
  const [head] = text.split('\r\n\r\n')
  const [statusLine, ...lines] = head.split('\r\n')
  const match = /^SIP\/2\.0 (\d{3}) ?(.*)$/.exec(statusLine)
  if (!match) return null
  const headers = new Map<string, string>()
  for (const line of lines) {
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    const name = line.slice(0, colon).trim().toLowerCase()
    if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim())
  }
  return { status: Number(match[1]), reason: match[2], headers }
}
