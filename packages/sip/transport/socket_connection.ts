import type net from 'node:net'
import SipStreamFramer from '#sip/message/sip_stream_framer'
import type SipMessageParser from '#sip/message/sip_message_parser'
import type SipParseError from '#sip/message/sip_parse_error'
import type { SipTransportProtocol } from '#sip/transaction/transaction_transport'
import type { StreamConnection } from '#sip/transport/stream_connection'
import { randomToken } from '#sip/message/random_token'
import CloseSignal from '#sip/transport/close_signal'

/** Bytes queued towards a peer that does not read; beyond this the connection is dropped. */
const MAX_PENDING_WRITE_BYTES = 1024 * 1024

export interface SocketConnectionOptions {
  protocol: SipTransportProtocol
  remoteAddress: string
  remotePort: number
  parser: SipMessageParser
  idleTimeoutMs: number
  /** Outbound only: the socket event after which the connection is established. */
  establishedEvent?: 'connect' | 'secureConnect'
  /** A complete message cut out of the stream, still to be parsed. */
  onMessage(bytes: Buffer, connection: SocketConnection): void
  /** The stream lost its framing; the connection is closed right after. */
  onFramingError(error: SipParseError, connection: SocketConnection): void
  onSocketError(error: unknown, connection: SocketConnection): void
}

/**
 * A TCP or TLS connection: frames the byte stream by Content-Length, answers CRLF keep-alive
 * pings (RFC 5626 4.4.1) and closes itself when idle or when the peer stops reading.
 */
export default class SocketConnection implements StreamConnection {
  readonly id: string
  readonly protocol: SipTransportProtocol
  readonly remoteAddress: string
  readonly remotePort: number
  readonly #socket: net.Socket
  readonly #framer: SipStreamFramer
  readonly #options: SocketConnectionOptions
  readonly #close: CloseSignal
  /** Until an outbound connection is established: who wants to hear that it failed. */
  #connectFailureListeners: Array<(error: unknown) => void> | undefined
  #lastError: unknown

  constructor(socket: net.Socket, options: SocketConnectionOptions) {
    this.id = `${options.protocol}-${randomToken()}`
    this.protocol = options.protocol
    this.remoteAddress = options.remoteAddress
    this.remotePort = options.remotePort
    this.#socket = socket
    this.#options = options
    this.#close = new CloseSignal((error) => this.#options.onSocketError(error, this))
    this.#framer = new SipStreamFramer(options.parser)

    socket.setNoDelay(true)
    socket.setTimeout(options.idleTimeoutMs)
    socket.on('timeout', () => this.close())
    socket.on('data', (chunk: Buffer) => this.#onData(chunk))
    socket.on('error', (error) => {
      this.#lastError = error
      this.#options.onSocketError(error, this)
    })
    if (options.establishedEvent) {
      this.#connectFailureListeners = []
      socket.once(options.establishedEvent, () => (this.#connectFailureListeners = undefined))
    }
    socket.on('close', () => this.#closed())
  }

  get closed(): boolean {
    return this.#close.closed
  }

  write(bytes: Buffer): void {
    if (this.#close.closed) {
      throw new Error(`connection ${this.id} is closed`)
    }
    if (this.#socket.writableLength > MAX_PENDING_WRITE_BYTES) {
      this.close()
      throw new Error(`connection ${this.id} dropped: the peer is not reading`)
    }
    this.#socket.write(bytes)
  }

  close(): void {
    this.#socket.destroy()
    this.#closed()
  }

  onClose(listener: () => void): void {
    this.#close.add(listener)
  }

  onConnectFailure(listener: (error: unknown) => void): void {
    this.#connectFailureListeners?.push(listener)
  }

  #closed(): void {
    const failed = this.#connectFailureListeners
    this.#connectFailureListeners = undefined
    this.#close.fire()
    const error =
      this.#lastError ?? new Error(`connection ${this.id} closed before it was established`)
    for (const listener of failed ?? []) {
      try {
        listener(error)
      } catch (listenerError) {
        this.#options.onSocketError(listenerError, this)
      }
    }
  }

  #onData(chunk: Buffer): void {
    try {
      for (const event of this.#framer.push(chunk)) {
        if (event.type === 'message') {
          this.#options.onMessage(event.bytes, this)
        } else if (event.type === 'keep-alive-ping') {
          this.#socket.write(event.reply)
        } else if (event.type === 'error') {
          this.#options.onFramingError(event.error, this)
          this.close()
        }
      }
    } catch (error) {
      this.#options.onSocketError(error, this)
    }
  }
}
