import net from 'node:net'
import StreamTransport from '#sip/transport/stream_transport'

/** SIP over TCP (RFC 3261 18.3): reliable, framed by Content-Length. */
export default class TcpTransport extends StreamTransport {
  readonly protocol = 'tcp' as const
  protected readonly acceptEvent = 'connection' as const
  protected readonly establishedEvent = 'connect' as const

  protected async createServer(): Promise<net.Server> {
    return net.createServer({ noDelay: true })
  }

  protected openSocket(host: string, port: number): net.Socket {
    return net.connect({ host, port, noDelay: true })
  }
}
