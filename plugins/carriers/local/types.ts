import type {
  CallerIdSignalling,
  HealthCheckOptions,
  SipTransportName,
} from '#calls/carriers/types'

/** The loopback peer used in development and tests (sipp or a second FluffyCall instance). */
export interface LocalCarrierConfig {
  port: number
  /** Loopback only: the plugin refuses anything else. */
  host?: '127.0.0.1' | '::1'
  /** UDP unless a test needs the peer over TCP or TLS. */
  transport?: SipTransportName
  /** Loopback addresses or ranges the peer also signals from (tests of the carriers' flood budget). */
  signallingSources?: string[]
  /** Tests shorten the interval to see a peer go down within seconds. */
  healthCheck?: Partial<HealthCheckOptions>
  /** SDES-SRTP in both directions (needs transport 'tls'; the boot check refuses it otherwise). */
  srtp?: 'none' | 'sdes'
  /** Tests of what a carrier's profile asks for (forwarding signalled by History-Info, say). */
  callerId?: Partial<CallerIdSignalling>
}
