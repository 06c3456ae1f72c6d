import type { FraudLimits, SpendLimits } from '#config/fraud'
import type { OutboundSuspension } from '#fraud/models/fraud_company_policy'
import type { NumberFacts } from '#fraud/services/number_risk'

/** A refusal: `reason` for logs and tests, `phrase` the SIP reason phrase the web phone translates. */
export interface FraudRefusal {
  reason: string
  phrase: string
}

/** What the gate knows about a company once its policy row (or the defaults) is loaded. */
export interface EffectivePolicy {
  companyId: number
  /** The company's own country: calls there are not international. */
  homeCountry: string
  allowedCountries: ReadonlySet<string>
  enabledRiskClasses: ReadonlySet<string>
  suspension: OutboundSuspension
  limits: { company: FraudLimits; user: FraudLimits; device: FraudLimits }
  callsToOneNumberPerHour: number
  maxDurationSeconds: number | null
  /** Daily limits reset at midnight here (the company's time zone). */
  timeZone: string
  /** Numbers a Wangiri signal flagged (E.164 with "+") → until when (epoch ms) calling them back is refused. */
  flaggedNumbers: ReadonlyMap<string, number>
  spend: SpendLimits
}

/** Suspended for outbound calling: everything, or international and premium/special ranges. */
export function suspensionRule(
  suspension: OutboundSuspension,
  facts: NumberFacts,
  homeCountry: string
): FraudRefusal | null {
  if (suspension === 'none') return null
  const risky = facts.country !== homeCountry || facts.riskClasses.length > 0
  if (suspension === 'all' || risky)
    return { reason: 'outbound_suspended', phrase: 'Outbound calls suspended' }
  return null
}

/** Premium, shared-cost, personal, special and high-risk (IRSF) numbers only when enabled. */
export function riskClassRule(
  facts: NumberFacts,
  enabled: ReadonlySet<string>
): FraudRefusal | null {
  const blocked = facts.riskClasses.find((riskClass) => !enabled.has(riskClass))
  if (!blocked) return null
  return { reason: `risk_class_${blocked}`, phrase: `Destination blocked: ${blocked}` }
}

/** Only the company's allowed countries; numbers of no country (+882...) are never "allowed". */
export function countryRule(facts: NumberFacts, allowed: ReadonlySet<string>): FraudRefusal | null {
  if (facts.country !== null && allowed.has(facts.country)) return null
  return { reason: 'country_not_allowed', phrase: 'Destination country not allowed' }
}

/** A call-back to a number a Wangiri signal flagged, within its days. */
export function flaggedNumberRule(
  destination: string,
  flagged: ReadonlyMap<string, number>,
  now: number
): FraudRefusal | null {
  const until = flagged.get(destination)
  if (until === undefined || until <= now) return null
  return { reason: 'flagged_number', phrase: 'Number flagged as fraudulent (Wangiri)' }
}

/** A destination priced above the company's maximum per minute (an unpriced one is not refused here). */
export function priceRule(
  pricePerMinuteMicro: number | null,
  maximum: number | null
): FraudRefusal | null {
  if (maximum === null || pricePerMinuteMicro === null || pricePerMinuteMicro <= maximum)
    return null
  return { reason: 'price_above_maximum', phrase: 'Destination too expensive' }
}

/**
 * Daily and monthly spend caps: refused once spent plus accrued reach a cap; otherwise the call may
 * run until the remaining budget is used at its price (the B2BUA ends it then).
 */
export function spendCapRule(
  limits: Pick<SpendLimits, 'dailyCapMicro' | 'monthlyCapMicro'>,
  spent: { day: number; month: number },
  accrued: number,
  pricePerMinuteMicro: number | null
): { refusal: FraudRefusal } | { maxDurationSeconds: number | null } {
  const left = [
    limits.dailyCapMicro === null
      ? null
      : { cap: 'daily', left: limits.dailyCapMicro - spent.day - accrued },
    limits.monthlyCapMicro === null
      ? null
      : { cap: 'monthly', left: limits.monthlyCapMicro - spent.month - accrued },
  ].filter((entry) => entry !== null)
  const exhausted = left.find((entry) => entry.left <= 0)
  if (exhausted)
    return { refusal: { reason: `${exhausted.cap}_spend_cap`, phrase: 'Spend limit reached' } }
  if (!left.length || !pricePerMinuteMicro) return { maxDurationSeconds: null }
  const budget = Math.min(...left.map((entry) => entry.left))
  return { maxDurationSeconds: Math.max(1, Math.floor((budget * 60) / pricePerMinuteMicro)) }
}

/** A user's own caps (set by the company's admins): the same rule, its own reason and phrase. */
export function userSpendCapRule(
  limits: Pick<SpendLimits, 'dailyCapMicro' | 'monthlyCapMicro'>,
  spent: { day: number; month: number },
  accrued: number,
  pricePerMinuteMicro: number | null
): { refusal: FraudRefusal } | { maxDurationSeconds: number | null } {
  const capped = spendCapRule(limits, spent, accrued, pricePerMinuteMicro)
  if (!('refusal' in capped)) return capped
  return {
    refusal: { reason: `user_${capped.refusal.reason}`, phrase: 'Personal spend limit reached' },
  }
}

/** True when either cap is set. */
export function hasSpendCap(limits: Pick<SpendLimits, 'dailyCapMicro' | 'monthlyCapMicro'>) {
  return limits.dailyCapMicro !== null || limits.monthlyCapMicro !== null
}

/** The first of the rules that refuses, in the order of the issue. */
export function destinationRules(
  policy: EffectivePolicy,
  userSuspension: OutboundSuspension,
  facts: NumberFacts
): FraudRefusal | null {
  return (
    suspensionRule(policy.suspension, facts, policy.homeCountry) ??
    suspensionRule(userSuspension, facts, policy.homeCountry) ??
    riskClassRule(facts, policy.enabledRiskClasses) ??
    countryRule(facts, policy.allowedCountries)
  )
}
