export type SipTargetTransport = 'udp' | 'tcp' | 'tls'

/** One place to send a request to: an address to connect to, in the order to try. */
export interface SipTarget {
  transport: SipTargetTransport
  /** An IP address (IPv6 without brackets). */
  address: string
  port: number
  /** The name the address was found for (for TLS certificate checks and logs). */
  hostname: string
}
