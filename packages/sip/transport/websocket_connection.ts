import type { WebSocket, RawData } from 'ws'
import type { SipTransportProtocol } from '#sip/transaction/transaction_transport'
import type { StreamConnection } from '#sip/transport/stream_connection'
import { randomToken } from '#sip/message/random_token'
import CloseSignal from '#sip/transport/close_signal'

/** Bytes queued towards a browser that does not read; beyond this the connection is dropped. */
const MAX_PENDING_WRITE_BYTES = 1024 * 1024

export interface WebSocketConnectionOptions {
  protocol: SipTransportProtocol
  remoteAddress: string
  remotePort: number
  onMessage(bytes: Buffer, connection: WebSocketConnection): void
  onError(error: unknown, connection: WebSocketConnection): void
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) {
    return data
  }
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data)
}

/**
 * One SIP WebSocket (RFC 7118): each WebSocket message carries exactly one SIP message, so no
 * framing is needed. Sends text frames, as browsers' SIP stacks expect; CRLF keep-alives are
 * answered by the transport layer like any other message.
 */
export default class WebSocketConnection implements StreamConnection {
  readonly id: string
  readonly protocol: SipTransportProtocol
  readonly remoteAddress: string
  readonly remotePort: number
  readonly #socket: WebSocket
  readonly #options: WebSocketConnectionOptions
  readonly #close: CloseSignal
  #closedCleanly = false

  constructor(socket: WebSocket, options: WebSocketConnectionOptions) {
    this.id = `ws-${randomToken()}`
    this.protocol = options.protocol
    this.remoteAddress = options.remoteAddress
    this.remotePort = options.remotePort
    this.#socket = socket
    this.#options = options
    this.#close = new CloseSignal((error) => this.#options.onError(error, this))
    socket.on('message', (data: RawData) => this.#onMessage(data))
    socket.on('error', (error) => this.#options.onError(error, this))
    socket.on('close', (code: number) => {
      // 1006: the socket went away without a close frame (network loss, a killed browser).
      if (!this.#close.closed) this.#closedCleanly = code !== 1006
      this.#close.fire()
    })
  }

  get closed(): boolean {
    return this.#close.closed
  }

  /** The client closed with a close frame (a tab closed); false when dropped or closed by us. */
  get closedCleanly(): boolean {
    return this.#closedCleanly
  }

  write(bytes: Buffer): void {
    if (this.#close.closed || this.#socket.readyState !== this.#socket.OPEN) {
      throw new Error(`connection ${this.id} is closed`)
    }
    if (this.#socket.bufferedAmount > MAX_PENDING_WRITE_BYTES) {
      this.close()
      throw new Error(`connection ${this.id} dropped: the peer is not reading`)
    }
    this.#socket.send(bytes.toString('utf8'))
  }

  close(): void {
    this.#socket.terminate()
    this.#close.fire()
  }

  onClose(listener: () => void): void {
    this.#close.add(listener)
  }

  #onMessage(data: RawData): void {
    try {
      this.#options.onMessage(toBuffer(data), this)
    } catch (error) {
      this.#options.onError(error, this)
    }
  }
}
