import type { SipTransportConfig } from '#sip/transport/sip_transport_config'
import type { TimerConfig } from '#sip/transaction/timer_config'

/** Carrier health checks and registrations, run by CarrierHealthService on the SIP stack. */
export interface CarrierHealthConfig {
  /**
   * Starts with the app and follows the carriers' state on its own. Off (tests): nothing runs
   * until `CarrierHealthService.sync()` is called.
   */
  automatic: boolean
  /**
   * How often the set of monitored carriers is read again (enabled, lifecycle `active`), so that
   * an operator's change takes effect without a restart. 0: only on `sync()`.
   */
  syncIntervalMs: number
  /** First retry delay after a failed REGISTER; doubles per failure up to `registrationRetryMaxMs`. */
  registrationRetryBaseMs: number
  registrationRetryMaxMs: number
}

/** config/sip.ts: the transports, the RFC 3261 timers and the carrier health checks. */
export interface SipConfig extends SipTransportConfig {
  /** T1, T2, T4 in ms (RFC 3261 defaults 500, 4000, 5000); Timer B and F are 64*T1. */
  timers: Partial<Pick<TimerConfig, 't1' | 't2' | 't4'>>
  carrierHealth: CarrierHealthConfig
}

export function defineConfig(config: SipConfig): SipConfig {
  return config
}
