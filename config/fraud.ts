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

/** A signal's two levels: it fires at `warning` and escalates at `critical` (counts, seconds...). */
export interface SignalLevels {
  warning: number
  critical: number
}

/** Anomaly detection (app/fraud/detection): baselines from the CDRs and each signal's thresholds. */
export interface DetectionConfig {
  /** Baselines cover this many whole weeks before the window under test. */
  baselineWeeks: number
  /** A country called fewer times than this in the whole baseline is "rarely called". */
  rareCountryCalls: number
  /** Calls to one rarely called country within `burstMinutes`. */
  rareCountryBurst: SignalLevels
  burstMinutes: number
  /** Night (hours in the company's time zone, start inclusive, end exclusive) and weekends. */
  night: { from: number; to: number }
  /** Calls started in this hour of the week at night or on the weekend, beyond `offHoursFactor` × the baseline's weekly mean. */
  offHours: SignalLevels
  offHoursFactor: number
  /** Minutes of one answered international call. */
  longInternationalMinutes: SignalLevels
  /** Calls answered for at most `shortCallSeconds` within `shortCallMinutes`. */
  shortCalls: SignalLevels
  shortCallSeconds: number
  shortCallMinutes: number
  /** Consecutive numbers (same length, each one higher) dialled within `sequentialMinutes`. */
  sequentialNumbers: SignalLevels
  sequentialMinutes: number
  /** Calls to one number within `oneNumberHours`. */
  oneNumber: SignalLevels
  oneNumberHours: number
  /** Failed web logins and SIP authentications of one company (or of unknown accounts) within `authFailureMinutes`. */
  authFailures: SignalLevels
  authFailureMinutes: number
  /** Short or unanswered inbound calls (at most `wangiriRingSeconds` answered) from rarely seen foreign countries within `wangiriMinutes`. */
  wangiri: SignalLevels
  wangiriRingSeconds: number
  wangiriMinutes: number
  /** Calling back a number a Wangiri signal flagged is refused for this many days. */
  wangiriFlagDays: number
  /** How often the audit entries are scanned for failed logins and SIP authentications. */
  authScanIntervalSeconds: number
  /**
   * A company's ended calls are analysed together, once per window of this many seconds, at its
   * end (issue 17: a job per call cost ~6 % of the server's CPU); 0: one analysis per call.
   */
  analysisBatchSeconds: number
}

/** Money limits in 1/10,000 cent (billing's unit); null: none. */
export interface SpendLimits {
  /** Destinations priced above this per minute are refused. */
  maxPricePerMinuteMicro: number | null
  /** Today's cost (midnight in the company's time zone) plus the running calls' accrued cost. */
  dailyCapMicro: number | null
  /** This month's cost plus the running calls' accrued cost. */
  monthlyCapMicro: number | null
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
  /** Daily counters reset at midnight here when a company has no time zone of its own. */
  timeZone: string
  /** A concurrent-call lease lives this long at most, should its call:ended never arrive. */
  leaseSeconds: number
  /** How often the concurrent-call counters are rebuilt from the calls still running. */
  rebuildIntervalSeconds: number
  /** Policies are cached in process this long (edits on this node take effect at once). */
  policyCacheSeconds: number
  detection: DetectionConfig
  /** Companies have no money limits until staff set them (prices differ too much for one default). */
  spend: SpendLimits
  /** How often the running calls are checked against the spend caps (SpendWatch). */
  spendCheckSeconds: number
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
  spend: { maxPricePerMinuteMicro: null, dailyCapMicro: null, monthlyCapMicro: null },
  spendCheckSeconds: 5,
  detection: {
    baselineWeeks: 4,
    rareCountryCalls: 3,
    rareCountryBurst: { warning: 5, critical: 10 },
    burstMinutes: 60,
    night: { from: 22, to: 6 },
    offHours: { warning: 10, critical: 30 },
    offHoursFactor: 3,
    longInternationalMinutes: { warning: 60, critical: 180 },
    shortCalls: { warning: 10, critical: 25 },
    shortCallSeconds: 10,
    shortCallMinutes: 10,
    sequentialNumbers: { warning: 5, critical: 10 },
    sequentialMinutes: 60,
    oneNumber: { warning: 30, critical: 60 },
    oneNumberHours: 24,
    authFailures: { warning: 10, critical: 30 },
    authFailureMinutes: 15,
    wangiri: { warning: 3, critical: 10 },
    wangiriRingSeconds: 3,
    wangiriMinutes: 60,
    wangiriFlagDays: 7,
    authScanIntervalSeconds: 60,
    analysisBatchSeconds: 5,
  },
}

export default fraudConfig
