import type { IncomingMessage } from 'node:http'
import proxyAddr from 'proxy-addr'
import { normalizeAddress } from '#calls/sip/transport/peer_address'

export type ProxyTrust = (address: string, hop: number) => boolean

/** Compiles a list of trusted proxies (addresses, CIDRs, or proxy-addr names such as loopback). */
export function compileProxyTrust(trustedProxies: readonly string[]): ProxyTrust {
  return trustedProxies.length === 0 ? () => false : proxyAddr.compile([...trustedProxies])
}

/**
 * The client's address and whether it used TLS. X-Forwarded-For and X-Forwarded-Proto are
 * believed only from a trusted proxy (the production TLS proxy); anyone else is the socket peer.
 */
export function resolveClient(
  request: IncomingMessage,
  trust: ProxyTrust
): { address: string; secure: boolean } {
  const peer = normalizeAddress(request.socket.remoteAddress)
  const encrypted = 'encrypted' in request.socket && Boolean(request.socket.encrypted)
  if (!trust(peer, 0)) {
    return { address: peer, secure: encrypted }
  }
  const forwardedProto = String(request.headers['x-forwarded-proto'] ?? '')
    .split(',')[0]
    .trim()
    .toLowerCase()
  return {
    address: normalizeAddress(proxyAddr(request, trust)),
    secure: forwardedProto === 'https' || forwardedProto === 'wss' || encrypted,
  }
}
