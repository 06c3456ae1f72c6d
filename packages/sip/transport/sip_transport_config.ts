/** One listening transport. Port 0 binds an ephemeral port (tests), read back after start. */
export interface ListenConfig {
  enabled: boolean
  port: number
}

export interface TlsConfig extends ListenConfig {
  /** PEM files; without both, development and tests use a self-signed pair in tmp/sip-tls. */
  certPath?: string
  keyPath?: string
  /** Verify carriers' certificates on outbound TLS; switch off only against self-signed peers. */
  verifyPeers: boolean
  handshakeTimeoutMs: number
}

export interface WebSocketConfig {
  enabled: boolean
  /** Path on the app's HTTP server, such as /sip. */
  path: string
  /** Origins whose pages may open the SIP WebSocket. */
  allowedOrigins: string[]
  /** Proxies whose X-Forwarded-For/-Proto are believed (addresses, CIDRs, proxy-addr names). */
  trustedProxies: string[]
}

export interface SipTransportConfig {
  /** Address UDP, TCP and TLS listen on. */
  host: string
  /** The host to put in Via and Contact when it differs from `host` (behind NAT). */
  publicHost?: string
  udp: ListenConfig
  tcp: ListenConfig
  tls: TlsConfig
  ws: WebSocketConfig
  /**
   * SIP fronts (addresses or CIDRs, e.g. a Kamailio) whose X-FluffyCall-Source header names the
   * real source of a request; empty or absent believes nobody.
   */
  trustedFronts?: string[]
  limits: {
    /** Largest message accepted, in bytes (the parser enforces it; 513 when answerable). */
    maxMessageSize: number
    maxConnectionsPerSource: number
    maxConnections: number
    /** A stream connection without traffic for this long is closed. */
    idleTimeoutMs: number
  }
  rateLimit: {
    enabled: boolean
    /** Messages per source IP at once, and sustained per second. */
    burst: number
    perSecond: number
    /** Sources remembered at most. */
    maxSources: number
    /**
     * Our carriers' signalling sources (addresses or CIDRs, e.g. "192.0.2.0/28"): each gets this
     * budget instead of the one for unknown sources. The carriers module adds the sources the
     * carrier profiles declare at boot (SipTransportLayer.setTrustedSources).
     */
    trusted?: { burst: number; perSecond: number; sources?: string[] }
  }
}

/** Types config/sip.ts; kept as a function in the shape of the other Adonis config files. */
export function defineConfig(config: SipTransportConfig): SipTransportConfig {
  return config
}
