import type SipUri from '#sip/message/sip_uri'
import { defaultPort } from '#sip/message/via_header'
import type { SipDestination, SipTransportProtocol } from '#sip/transaction/transaction_transport'

/** Maps a URI to where a request for it is sent; the core's default needs no DNS. */
export type DestinationResolver = (uri: SipUri) => SipDestination

const PROTOCOLS: readonly SipTransportProtocol[] = ['udp', 'tcp', 'tls', 'ws', 'wss']

/**
 * The next hop straight from a URI: its host and port, ;transport or TLS for sips. It does not
 * do RFC 3263 (NAPTR/SRV); callers that route to host names pass a resolver or a destination.
 */
export function uriDestination(
  uri: SipUri,
  fallback: SipTransportProtocol = 'udp'
): SipDestination {
  const asked = uri.transport as SipTransportProtocol | undefined
  let protocol = asked && PROTOCOLS.includes(asked) ? asked : fallback
  if (uri.scheme === 'sips' && protocol === 'udp') {
    protocol = 'tls'
  }
  return { protocol, host: uri.host, port: uri.port ?? defaultPort(protocol) }
}
