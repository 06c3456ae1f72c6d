/**
 * The fraud gate's defaults (app/fraud). A company without its own policy row gets these; staff
 * widen them per company. Limits are per company, per user and per SIP device of the company.
 */
export interface FraudLimits {
  /** Calls at once. */
  concurrent: number
  perMinute: number
  perHour: number
  perDay: number
}

export interface FraudConfig {
  /** New companies may call Germany and these low-risk countries (ISO 3166 alpha-2). */
  allowedCountries: string[]
  /** Risk classes a new company may call; everything else in RISK_CLASSES is blocked. */
  enabledRiskClasses: string[]
  limits: { company: FraudLimits; user: FraudLimits; device: FraudLimits }
  /** Calls from one company to one number within an hour. */
  callsToOneNumberPerHour: number
  /** Calls end after this long; null for no limit. */
  maxDurationSeconds: number | null
  /** Daily counters reset at midnight here (companies have no time zone of their own yet). */
  timeZone: string
  /** A concurrent-call lease lives this long at most, should its call:ended never arrive. */
  leaseSeconds: number
  /** How often the concurrent-call counters are rebuilt from the calls still running. */
  rebuildIntervalSeconds: number
  /** Policies are cached in process this long (edits on this node take effect at once). */
  policyCacheSeconds: number
}

const fraudConfig: FraudConfig = {
  allowedCountries: ['DE', 'AT', 'CH', 'NL', 'BE', 'LU', 'FR', 'DK', 'PL', 'CZ', 'IT', 'ES'],
  enabledRiskClasses: [],
  limits: {
    company: { concurrent: 30, perMinute: 60, perHour: 600, perDay: 3000 },
    user: { concurrent: 3, perMinute: 10, perHour: 120, perDay: 600 },
    device: { concurrent: 3, perMinute: 10, perHour: 120, perDay: 600 },
  },
  callsToOneNumberPerHour: 20,
  maxDurationSeconds: 4 * 3600,
  timeZone: 'Europe/Berlin',
  leaseSeconds: 6 * 3600,
  rebuildIntervalSeconds: 60,
  policyCacheSeconds: 10,
}

export default fraudConfig
