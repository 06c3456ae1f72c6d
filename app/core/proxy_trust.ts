import proxyAddr from 'proxy-addr'

/** Decides whether the peer at `address` is a proxy whose X-Forwarded-* headers are believed. */
export type ProxyTrust = (address: string, hop: number) => boolean

/** The comma-separated TRUSTED_PROXIES value as a list (addresses, CIDRs or proxy-addr names). */
export function parseTrustedProxies(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
}

/**
 * The one rule for HTTP and the SIP WebSocket: only the named proxies are trusted. An empty list
 * trusts nobody, loopback included (a local process could otherwise choose its own client address).
 */
export function compileProxyTrust(trustedProxies: readonly string[]): ProxyTrust {
  return trustedProxies.length === 0 ? () => false : proxyAddr.compile([...trustedProxies])
}
