import dgram from 'node:dgram'
import net from 'node:net'
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SIPP, SIPP_SCENARIOS, requireSipp, requireTool } from '#tests/support/sipp_runner'

/**
 * Real SIP peers for the call-flow e2e tests: sipp started in the background (as UAS or UAC),
 * stunnel4 in front of sipp's TCP for TLS, and a lossy UDP relay. Ports are probed through
 * /proc/net so that waiting for a listener never sends it anything.
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A port nothing listens on right now (a race with other processes stays possible). */
export async function freePort(protocol: 'udp' | 'tcp', host = '127.0.0.1'): Promise<number> {
  if (protocol === 'tcp') {
    const server = net.createServer()
    await new Promise<void>((resolve) => server.listen(0, host, () => resolve()))
    const { port } = server.address() as net.AddressInfo
    await new Promise((resolve) => server.close(resolve))
    return port
  }
  const socket = dgram.createSocket('udp4')
  await new Promise<void>((resolve) => socket.bind(0, host, () => resolve()))
  const { port } = socket.address()
  await new Promise<void>((resolve) => socket.close(() => resolve()))
  return port
}

/** Whether a socket is bound to `port` (UDP) or listens on it (TCP), from /proc/net. */
export function isBound(protocol: 'udp' | 'tcp', port: number): boolean {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0')
  for (const file of [`/proc/net/${protocol}`, `/proc/net/${protocol}6`]) {
    if (!existsSync(file)) continue
    const lines = readFileSync(file, 'utf8').split('\n').slice(1)
    for (const line of lines) {
      const fields = line.trim().split(/\s+/)
      if (fields.length < 4) continue
      const [, local, , state] = fields
      if (!local.endsWith(`:${hexPort}`)) continue
      // TCP: 0A is LISTEN; UDP sockets show 07 (unconnected).
      if (protocol === 'udp' || state === '0A') return true
    }
  }
  return false
}

export interface SippOptions {
  scenario: string
  /** u1 (UDP) or t1 (TCP, one connection). */
  transport: 'u1' | 't1'
  /** For a UAC: host:port to call. A UAS has none. */
  target?: string
  /** -i: the address sipp binds and writes as [local_ip]. */
  localIp?: string
  /** -p: the SIP port to bind (say, where a phone registered from); a free one when absent. */
  port?: number
  /** Generic keywords ([name] in the scenario), -key name value; a function gets sipp's port. */
  keys?: Record<string, string> | ((port: number) => Record<string, string>)
  /** -m: calls before sipp exits. */
  calls?: number
  timeoutSeconds?: number
  /** Writes every message to messages.log (read it with `messages()`). */
  traceMessages?: boolean
  /** Writes statistics to stats.csv (read them with `statistics()`). */
  traceStats?: boolean
  extraArgs?: string[]
  /** Files written into sipp's working directory before it starts (audio for rtp_stream). */
  files?: Record<string, Buffer>
}

export interface SippOutcome {
  code: number | null
  output: string
}

export interface SippProcess {
  /** The SIP port sipp bound (its [local_port]). */
  port: number
  directory: string
  done: Promise<SippOutcome>
  /** Every message sipp sent or received, as logged by -trace_msg. */
  messages(): string
  /** The last row of the -trace_stat CSV, by column name. */
  statistics(): Record<string, string>
  /** A readable account of a failure: exit code, screen and sipp's error log. */
  describe(outcome: SippOutcome): string
  /** Kills sipp if it still runs; its files stay. */
  kill(): void
  /** Kills sipp if it still runs and removes its scratch directory (logs, statistics). */
  stop(): void
}

/** sipp's exit code when it cannot bind its port (taken by someone else meanwhile). */
const SIPP_BIND_FAILED = 254

/**
 * Starts sipp in the background on a free port and resolves once its SIP socket is bound.
 * Retries on another port when the chosen one was taken in between.
 */
export async function startSipp(options: SippOptions): Promise<SippProcess> {
  requireSipp()
  for (let attempt = 1; ; attempt++) {
    const started = await trySipp(options)
    if (started) return started
    if (attempt >= 3) throw new Error('sipp could not bind a port three times')
  }
}

async function trySipp(options: SippOptions): Promise<SippProcess | undefined> {
  const protocol = options.transport === 'u1' ? 'udp' : 'tcp'
  const localIp = options.localIp ?? '127.0.0.1'
  const port = options.port ?? (await freePort(protocol, localIp))
  const directory = mkdtempSync(join(tmpdir(), 'fluffycall-sipp-'))
  for (const [name, content] of Object.entries(options.files ?? {}))
    writeFileSync(join(directory, name), content)
  const messagesFile = join(directory, 'messages.log')
  const statsFile = join(directory, 'stats.csv')
  const errorsFile = join(directory, 'errors.log')
  const args = [
    ...(options.target ? [options.target] : []),
    '-sf',
    join(SIPP_SCENARIOS, options.scenario),
    '-t',
    options.transport,
    '-i',
    localIp,
    '-p',
    String(port),
    '-m',
    String(options.calls ?? 1),
    '-timeout',
    `${options.timeoutSeconds ?? 15}s`,
    '-timeout_error',
    '-nostdin',
    '-trace_err',
    '-error_file',
    errorsFile,
    ...(options.traceMessages ? ['-trace_msg', '-message_file', messagesFile] : []),
    ...(options.traceStats ? ['-trace_stat', '-stf', statsFile, '-fd', '1'] : []),
    ...Object.entries(
      typeof options.keys === 'function' ? options.keys(port) : (options.keys ?? {})
    ).flatMap(([name, value]) => ['-key', name, value]),
    ...(options.extraArgs ?? []),
    // sipp's media port defaults to 6000 for every sipp: a free one each, unless the test chose.
    ...(options.extraArgs?.includes('-mp') ? [] : ['-mp', String(await freePort('udp', localIp))]),
  ]
  const child = spawn(SIPP, args, { cwd: directory })
  let output = ''
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000)
  }
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)
  let exited = false
  const done = new Promise<SippOutcome>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) => {
      exited = true
      resolve({ code, output })
    })
  })

  // A UAC may be done before its socket was ever seen; only a failed bind means another try.
  const deadline = Date.now() + 5000
  while (!exited && !isBound(protocol, port)) {
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`sipp did not bind ${protocol} ${localIp}:${port}`)
    }
    await sleep(20)
  }
  if (exited && (await done).code === SIPP_BIND_FAILED) {
    return undefined
  }

  const read = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : '')
  return {
    port,
    directory,
    done,
    messages: () => read(messagesFile),
    statistics: () => lastCsvRow(read(statsFile)),
    describe: (outcome) =>
      [
        `sipp ${options.scenario} exited ${outcome.code}`,
        outcome.output.slice(-3000),
        'errors.log:',
        read(errorsFile).slice(-3000),
      ].join('\n'),
    kill: () => {
      if (!exited) child.kill('SIGKILL')
    },
    stop: () => {
      if (!exited) child.kill('SIGKILL')
      rmSync(directory, { recursive: true, force: true })
    },
  }
}

function lastCsvRow(csv: string): Record<string, string> {
  const lines = csv.split('\n').filter((line) => line.trim() !== '')
  if (lines.length < 2) return {}
  const names = lines[0].split(';')
  const values = lines[lines.length - 1].split(';')
  return Object.fromEntries(names.map((name, index) => [name.trim(), (values[index] ?? '').trim()]))
}

export interface Stunnel {
  stop(): Promise<void>
}

/**
 * stunnel4 in front of a plain TCP port: `server` terminates TLS from us and forwards to sipp's
 * TCP listener (certificate and key given); a client tunnel takes plain TCP from sipp and speaks
 * TLS to us. Resolves once stunnel listens.
 */
export async function startStunnel(options: {
  mode: 'server' | 'client'
  acceptPort: number
  connectPort: number
  certPath?: string
  keyPath?: string
}): Promise<Stunnel> {
  requireTool('stunnel4', 'stunnel4')
  const directory = mkdtempSync(join(tmpdir(), 'fluffycall-stunnel-'))
  const configPath = join(directory, 'stunnel.conf')
  const service =
    options.mode === 'server'
      ? [`cert = ${options.certPath}`, `key = ${options.keyPath}`]
      : ['client = yes', 'verifyChain = no']
  writeFileSync(
    configPath,
    [
      'foreground = yes',
      'pid =',
      'debug = 3',
      '[sip-tls]',
      `accept = 127.0.0.1:${options.acceptPort}`,
      `connect = 127.0.0.1:${options.connectPort}`,
      ...service,
      '',
    ].join('\n')
  )
  const child: ChildProcess = spawn('stunnel4', [configPath], { stdio: 'ignore' })
  let exited = false
  const closed = new Promise<void>((resolve) =>
    child.on('close', () => {
      exited = true
      resolve()
    })
  )
  const deadline = Date.now() + 5000
  while (!isBound('tcp', options.acceptPort)) {
    if (exited || Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`stunnel4 did not listen on ${options.acceptPort}`)
    }
    await sleep(20)
  }
  return {
    stop: async () => {
      if (!exited) child.kill('SIGTERM')
      await closed
      rmSync(directory, { recursive: true, force: true })
    },
  }
}

interface Endpoint {
  address: string
  port: number
}

function firstLine(message: Buffer): string {
  const end = message.indexOf('\r\n')
  return message.subarray(0, end < 0 ? message.length : end).toString('latin1')
}

function cseqMethod(message: Buffer): string | undefined {
  return /^CSeq:\s*\d+\s+(\S+)/im.exec(message.toString('latin1'))?.[1]?.toUpperCase()
}

/**
 * A UDP relay between our stack (the client side) and a peer: it listens on `host` (say
 * 127.0.0.3), forwards to the peer from a second socket on the same host, and sends the peer's
 * messages back to whoever last wrote to the front socket. It drops the first N initial INVITEs
 * on the way in and the first N 200s to INVITE on the way back, and counts what it saw.
 */
export class LossyUdpRelay {
  readonly seen = { invites: 0, invitesDropped: 0, inviteOks: 0, inviteOksDropped: 0, forwarded: 0 }
  readonly #front = dgram.createSocket('udp4')
  readonly #back = dgram.createSocket('udp4')
  #client: Endpoint | undefined

  constructor(
    readonly host: string,
    readonly peer: Endpoint,
    readonly drop: { invites: number; inviteOks: number }
  ) {}

  get port(): number {
    return this.#front.address().port
  }

  async start(): Promise<void> {
    await Promise.all(
      [this.#front, this.#back].map(
        (socket) => new Promise<void>((resolve) => socket.bind(0, this.host, () => resolve()))
      )
    )
    this.#front.on('message', (message, from) => {
      this.#client = { address: from.address, port: from.port }
      if (firstLine(message).startsWith('INVITE ')) {
        this.seen.invites += 1
        if (this.seen.invitesDropped < this.drop.invites) {
          this.seen.invitesDropped += 1
          return
        }
      }
      this.seen.forwarded += 1
      this.#back.send(message, this.peer.port, this.peer.address)
    })
    this.#back.on('message', (message) => {
      if (firstLine(message).startsWith('SIP/2.0 200') && cseqMethod(message) === 'INVITE') {
        this.seen.inviteOks += 1
        if (this.seen.inviteOksDropped < this.drop.inviteOks) {
          this.seen.inviteOksDropped += 1
          return
        }
      }
      const client = this.#client
      if (!client) return
      this.seen.forwarded += 1
      this.#front.send(message, client.port, client.address)
    })
  }

  async close(): Promise<void> {
    await Promise.all(
      [this.#front, this.#back].map(
        (socket) => new Promise<void>((resolve) => socket.close(() => resolve()))
      )
    )
  }
}
