import type { CallAttempt, CallGate, GateDecision } from '#calls/gates/call_gate'
import type { FraudConfig } from '#config/fraud'
import type FraudPolicies from '#fraud/services/fraud_policies'
import type FraudLimiter from '#fraud/services/fraud_limiter'
import type { LimitSubject } from '#fraud/services/fraud_limiter'
import type CallLeases from '#fraud/services/call_leases'
import type DestinationPrices from '#fraud/services/destination_prices'
import type SpendCounters from '#fraud/services/spend_counters'
import {
  destinationRules,
  flaggedNumberRule,
  priceRule,
  spendCapRule,
  type EffectivePolicy,
  type FraudRefusal,
} from '#fraud/services/fraud_rules'

/** Where the gate learns prices and spend (absent in benches that measure the rest). */
export interface MoneyRules {
  prices: DestinationPrices
  spend: SpendCounters
}

/**
 * The fraud decision for every outbound call (110/112 never get here: the B2BUA decides them
 * first). Destination rules from cached policies, then the counting limits; an allowed call holds
 * a concurrent-call lease until call:ended and carries its maximum duration.
 */
export default class FraudGate implements CallGate {
  readonly name = 'fraud'

  constructor(
    _config: FraudConfig,
    private policies: FraudPolicies,
    private limiter: FraudLimiter,
    private leases: CallLeases,
    private now: () => number = Date.now,
    private money: MoneyRules | null = null
  ) {}

  /** Maximum price per minute and spend caps; only companies with a money limit pay for the lookups. */
  async #moneyRules(attempt: CallAttempt, policy: EffectivePolicy) {
    const limits = policy.spend
    const none = { price: null, maxDurationSeconds: null }
    if (
      !this.money ||
      (limits.maxPricePerMinuteMicro === null &&
        limits.dailyCapMicro === null &&
        limits.monthlyCapMicro === null)
    ) {
      return none
    }
    const price = await this.money.prices.perMinuteMicro(policy.companyId, attempt.destination)
    const tooExpensive = priceRule(price, limits.maxPricePerMinuteMicro)
    if (tooExpensive) return { refusal: tooExpensive }
    if (limits.dailyCapMicro === null && limits.monthlyCapMicro === null)
      return { price, maxDurationSeconds: null }
    const spent = await this.money.spend.spent(
      `company:${policy.companyId}`,
      policy.timeZone,
      this.now()
    )
    const capped = spendCapRule(
      limits,
      spent,
      this.money.spend.accrued(policy.companyId, this.now()),
      price
    )
    if ('refusal' in capped) return capped
    return { price, maxDurationSeconds: capped.maxDurationSeconds }
  }

  async check(attempt: CallAttempt): Promise<GateDecision> {
    const [policy, userSuspension, risk] = await Promise.all([
      this.policies.company(attempt.company),
      this.policies.userSuspension(attempt.user.id),
      this.policies.numberRisk(),
    ])
    const facts = risk.classify(attempt.destination)
    const refused =
      destinationRules(policy, userSuspension, facts) ??
      flaggedNumberRule(attempt.destination, policy.flaggedNumbers, this.now())
    if (refused) return refusal(refused)
    const money = await this.#moneyRules(attempt, policy)
    if ('refusal' in money) return refusal(money.refusal)

    const subjects: LimitSubject[] = [
      { key: `company:${policy.companyId}`, limits: policy.limits.company },
      { key: `user:${attempt.user.id}`, limits: policy.limits.user },
      ...(attempt.deviceId !== null
        ? [{ key: `device:${attempt.deviceId}`, limits: policy.limits.device }]
        : []),
    ]
    const admitted = await this.limiter.admit(
      subjects,
      {
        companyId: policy.companyId,
        destination: attempt.destination,
        perHour: policy.callsToOneNumberPerHour,
      },
      policy.timeZone
    )
    if ('refusal' in admitted) return refusal(admitted.refusal)
    this.leases.taken(
      attempt.callUuid,
      { companyId: policy.companyId, userId: attempt.user.id, deviceId: attempt.deviceId },
      admitted.leaseKeys
    )
    if (money.price !== null) {
      this.money?.spend.running(attempt.callUuid, {
        companyId: policy.companyId,
        userId: attempt.user.id,
        pricePerMinuteMicro: money.price,
      })
    }
    const budget = money.maxDurationSeconds
    if (
      budget !== null &&
      (policy.maxDurationSeconds === null || budget < policy.maxDurationSeconds)
    ) {
      return { allow: true, maxDurationSeconds: budget, durationCause: 'spend_cap' }
    }
    return policy.maxDurationSeconds === null
      ? { allow: true }
      : { allow: true, maxDurationSeconds: policy.maxDurationSeconds }
  }
}

function refusal({ reason, phrase }: FraudRefusal): GateDecision {
  return { allow: false, reason, status: 403, phrase }
}
