/** The loopback peer used in development and tests (sipp or a second FluffyCall instance). */
export interface LocalCarrierConfig {
  port: number
  /** Loopback only: the plugin refuses anything else. */
  host?: '127.0.0.1' | '::1'
}
