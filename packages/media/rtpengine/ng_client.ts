import dgram from 'node:dgram'
import { randomBytes } from 'node:crypto'
import { decode, encode, type BencodeDictionary } from '#media/rtpengine/bencode'
import { MediaCapacityError } from '#media/types'

export interface NgClientOptions {
  host: string
  port: number
  /** How long one command may take, retransmissions included, before it fails. */
  timeoutMs?: number
  /** A request without a reply is sent again (same cookie) after this long. */
  retransmitMs?: number
}

/** rtpengine answered `result: error` (or something that is not an ng reply). */
export class NgCommandError extends Error {
  constructor(
    readonly command: string,
    readonly reason: string
  ) {
    super(`rtpengine ${command}: ${reason}`)
  }
}

interface Pending {
  command: string
  resolve(reply: BencodeDictionary): void
  reject(error: Error): void
  retransmit: NodeJS.Timeout
  timeout: NodeJS.Timeout
}

/**
 * rtpengine's ng control protocol: "<cookie> <bencoded dictionary>" over UDP, the reply carries
 * the same cookie. A lost datagram is sent again with the same cookie, so rtpengine answers a
 * repeat from its cookie cache instead of running the command twice. No reply in time is a
 * MediaCapacityError ('media_engine'): the call is refused with 503, never left hanging.
 */
export default class NgClient {
  #socket: dgram.Socket | null = null
  #opening: Promise<dgram.Socket> | null = null
  #pending = new Map<string, Pending>()
  #timeoutMs: number
  #retransmitMs: number

  constructor(private options: NgClientOptions) {
    this.#timeoutMs = options.timeoutMs ?? 3000
    this.#retransmitMs = options.retransmitMs ?? 500
  }

  get target() {
    return `${this.options.host}:${this.options.port}`
  }

  async command(command: string, fields: BencodeDictionary = {}): Promise<BencodeDictionary> {
    const socket = await this.#open()
    const cookie = randomBytes(8).toString('hex')
    const datagram = Buffer.concat([Buffer.from(`${cookie} `), encode({ ...fields, command })])
    const send = () => socket.send(datagram, this.options.port, this.options.host, () => {})
    const reply = await new Promise<BencodeDictionary>((resolve, reject) => {
      const settle = () => {
        clearInterval(pending.retransmit)
        clearTimeout(pending.timeout)
        this.#pending.delete(cookie)
      }
      const pending: Pending = {
        command,
        resolve: (value) => (settle(), resolve(value)),
        reject: (error) => (settle(), reject(error)),
        retransmit: setInterval(send, this.#retransmitMs),
        timeout: setTimeout(
          () =>
            pending.reject(
              new MediaCapacityError(
                'media_engine',
                `rtpengine at ${this.target} did not answer "${command}" within ${this.#timeoutMs} ms`
              )
            ),
          this.#timeoutMs
        ),
      }
      this.#pending.set(cookie, pending)
      send()
    })
    if (reply.result === 'error') {
      const reason = String(reply['error-reason'] ?? 'error')
      // Its port range used up: a capacity refusal (503 with Retry-After) like ours
      if (/ports/i.test(reason)) {
        throw new MediaCapacityError('media_engine', `rtpengine ${command}: ${reason}`)
      }
      throw new NgCommandError(command, reason)
    }
    return reply
  }

  #open(): Promise<dgram.Socket> {
    if (this.#socket) return Promise.resolve(this.#socket)
    this.#opening ??= new Promise((resolve, reject) => {
      const socket = dgram.createSocket(this.options.host.includes(':') ? 'udp6' : 'udp4')
      socket.on('message', (message) => this.#receive(message))
      // ICMP port unreachable (nobody listening) surfaces here on some systems: the timeout decides
      socket.on('error', () => {})
      socket.once('listening', () => {
        socket.unref()
        this.#socket = socket
        resolve(socket)
      })
      try {
        socket.bind(0)
      } catch (error) {
        reject(error)
      }
    })
    return this.#opening
  }

  #receive(message: Buffer) {
    const space = message.indexOf(0x20)
    if (space < 0) return
    const pending = this.#pending.get(message.toString('latin1', 0, space))
    if (!pending) return
    try {
      const reply = decode(message.subarray(space + 1))
      if (typeof reply !== 'object' || Array.isArray(reply) || Buffer.isBuffer(reply))
        throw new Error('not a dictionary')
      pending.resolve(reply)
    } catch (error) {
      pending.reject(new NgCommandError(pending.command, `unreadable reply: ${String(error)}`))
    }
  }

  close() {
    for (const pending of this.#pending.values()) {
      pending.reject(new MediaCapacityError('media_engine', 'the rtpengine client was closed'))
    }
    this.#socket?.close()
    this.#socket = null
    this.#opening = null
  }
}
