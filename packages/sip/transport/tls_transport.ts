import type net from 'node:net'
import { isIP } from 'node:net'
import tls from 'node:tls'
import StreamTransport, { type StreamTransportOptions } from '#sip/transport/stream_transport'
import type { TlsCredentials } from '#sip/transport/tls_credentials'

export interface TlsTransportOptions extends StreamTransportOptions {
  /** Returns the current certificate and key; called at listen and on every reload. */
  loadCredentials(): Promise<TlsCredentials>
  /** Verify the certificates of peers we connect to (carriers); off only for development. */
  verifyPeers: boolean
  /** How long a client may take for the handshake before the socket is dropped. */
  handshakeTimeoutMs: number
}

/** SIP over TLS (RFC 3261 26.2): TCP framing inside TLS; the certificate reloads in place. */
export default class TlsTransport extends StreamTransport {
  readonly protocol = 'tls' as const
  protected readonly acceptEvent = 'secureConnection' as const
  protected readonly establishedEvent = 'secureConnect' as const
  readonly #tlsOptions: TlsTransportOptions

  constructor(options: TlsTransportOptions) {
    super(options)
    this.#tlsOptions = options
  }

  protected async createServer(): Promise<net.Server> {
    const { cert, key } = await this.#tlsOptions.loadCredentials()
    const server = tls.createServer({
      cert,
      key,
      minVersion: 'TLSv1.2',
      handshakeTimeout: this.#tlsOptions.handshakeTimeoutMs,
    })
    server.on('tlsClientError', (error) => this.options.traffic.failure('tls handshake', error))
    return server
  }

  protected openSocket(host: string, port: number, hostname?: string): net.Socket {
    const name = hostname ?? host
    return tls.connect({
      host,
      port,
      // SNI and the certificate check use the carrier's name, not the address it resolved to.
      servername: isIP(name) === 0 ? name : undefined,
      checkServerIdentity: (_host, certificate) => tls.checkServerIdentity(name, certificate),
      rejectUnauthorized: this.#tlsOptions.verifyPeers,
      minVersion: 'TLSv1.2',
    })
  }

  /**
   * Swaps in the certificate and key from disk. Established connections keep their session;
   * only new handshakes use the new pair.
   */
  async reloadCertificate(): Promise<void> {
    const server = this.server
    if (!(server instanceof tls.Server)) {
      throw new Error('the TLS transport is not listening')
    }
    const { cert, key } = await this.#tlsOptions.loadCredentials()
    server.setSecureContext({ cert, key, minVersion: 'TLSv1.2' })
    this.options.traffic.info({ protocol: 'tls' }, 'sip tls certificate reloaded')
  }
}
