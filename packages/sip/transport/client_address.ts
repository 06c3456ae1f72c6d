import type { IncomingMessage } from 'node:http'
import proxyAddr from 'proxy-addr'
import { normalizeAddress } from '#sip/transport/peer_address'

/** Decides whether the peer at `address` is a proxy whose X-Forwarded-* headers are believed. */
export type ProxyTrust = (address: string, hop: number) => boolean

/**
 * The same rule as HTTP's request.ip(): only the named proxies (TRUSTED_PROXIES) are trusted. An
 * empty list trusts nobody, loopback included (a local process could otherwise choose its own
 * client address).
 */
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
