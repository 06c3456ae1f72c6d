import dgram from 'node:dgram'
import { isIPv6 } from 'node:net'
import type SipMessage from '#sip/message/sip_message'
import type { SipDestination, SipTransportProtocol } from '#sip/transaction/transaction_transport'
import type {
  SipTransport,
  TransportAddress,
  TransportReceiver,
} from '#sip/transport/sip_transport'
import type SipTrafficLogger from '#sip/transport/sip_traffic_logger'
import { normalizeAddress } from '#sip/transport/peer_address'

/**
 * The socket's receive buffer asked of the kernel. The default (net.core.rmem_default, 208 KiB)
 * holds some 150-300 datagrams: at 200-250 calls per second a main thread held for 100-200 ms (a
 * garbage collection, a busy core) overflows it and the kernel drops what arrives, e.g. a
 * carrier's 100 Trying (bench/README.md, twelfth round). Linux caps the request at
 * net.core.rmem_max: 208 KiB on a stock kernel, so a host meant for such rates raises it
 * (`sysctl -w net.core.rmem_max=4194304`; 4 MiB on the machine measured).
 */
const RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024

export interface UdpTransportOptions {
  host: string
  port: number
  receiver: TransportReceiver
  traffic: SipTrafficLogger
}

/** SIP over UDP (RFC 3261 18): a datagram per message; unreliable, so transactions retransmit. */
export default class UdpTransport implements SipTransport {
  readonly reliable = false
  readonly protocols: readonly SipTransportProtocol[] = ['udp']
  readonly #options: UdpTransportOptions
  #socket: dgram.Socket | undefined
  /** The bound address, read once at bind: asked for at every message sent (Via, Contact). */
  #bound: TransportAddress | undefined

  constructor(options: UdpTransportOptions) {
    this.#options = options
  }

  get localAddress(): TransportAddress | undefined {
    return this.#bound && { ...this.#bound }
  }

  listen(): Promise<void> {
    const socket = dgram.createSocket({ type: isIPv6(this.#options.host) ? 'udp6' : 'udp4' })
    return new Promise((resolve, reject) => {
      socket.once('error', reject)
      socket.bind(this.#options.port, this.#options.host, () => {
        socket.off('error', reject)
        socket.on('error', (error) => this.#options.traffic.failure('udp socket', error))
        socket.on('message', (bytes, remote) => this.#onDatagram(bytes, remote))
        try {
          socket.setRecvBufferSize(RECEIVE_BUFFER_BYTES)
        } catch (error) {
          // A kernel that refuses the size (rather than capping it) leaves its default.
          this.#options.traffic.failure('udp receive buffer', error)
        }
        this.#socket = socket
        const { address, port } = socket.address()
        this.#bound = { host: address, port }
        resolve()
      })
    })
  }

  send(
    message: SipMessage,
    destination: SipDestination,
    onLateError?: (error: unknown) => void
  ): void {
    this.sendBytes(message.toBuffer(), destination, onLateError)
    this.#options.traffic.sent(message, { ...destination, address: destination.host })
  }

  sendBytes(
    bytes: Buffer,
    destination: SipDestination,
    onLateError?: (error: unknown) => void
  ): void {
    if (!this.#socket) {
      throw new Error('the UDP transport is not listening')
    }
    this.#socket.send(bytes, destination.port, destination.host, (error) => {
      if (error) {
        this.#options.traffic.failure('udp send', error, {
          protocol: 'udp',
          address: destination.host,
          port: destination.port,
        })
        // RFC 3261 18.4: a failed send (no route, ICMP) is a transport error of the transaction.
        onLateError?.(error)
      }
    })
  }

  hasConnection(): boolean {
    return false
  }

  close(): Promise<void> {
    const socket = this.#socket
    this.#socket = undefined
    this.#bound = undefined
    if (!socket) {
      return Promise.resolve()
    }
    return new Promise((resolve) => socket.close(() => resolve()))
  }

  #onDatagram(bytes: Buffer, remote: dgram.RemoteInfo): void {
    try {
      this.#options.receiver.receive(bytes, {
        transport: this,
        protocol: 'udp',
        address: normalizeAddress(remote.address),
        port: remote.port,
      })
    } catch (error) {
      this.#options.traffic.failure('udp receive', error)
    }
  }
}
