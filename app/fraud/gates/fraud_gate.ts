import type { CallAttempt, CallGate, GateDecision } from '#calls/gates/call_gate'
import type { FraudConfig } from '#config/fraud'
import type FraudPolicies from '#fraud/services/fraud_policies'
import type { UserPolicy } from '#fraud/services/fraud_policies'
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
  userSpendCapRule,
  hasSpendCap,
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

  /**
   * Maximum price per minute and spend caps (the company's and the user's own); only companies
   * and users with a money limit pay for the lookups.
   */
  async #moneyRules(attempt: CallAttempt, policy: EffectivePolicy, user: UserPolicy) {
    const limits = policy.spend
    const none = { price: null, maxDurationSeconds: null }
    const companyCaps = hasSpendCap(limits)
    const userCaps = hasSpendCap(user.spend)
    if (!this.money || (limits.maxPricePerMinuteMicro === null && !companyCaps && !userCaps)) {
      return none
    }
    const price = await this.money.prices.perMinuteMicro(policy.companyId, attempt.destination)
    const tooExpensive = priceRule(price, limits.maxPricePerMinuteMicro)
    if (tooExpensive) return { refusal: tooExpensive }
    const now = this.now()
    const budgets: number[] = []
    if (companyCaps) {
      const spent = await this.money.spend.spent(
        `company:${policy.companyId}`,
        policy.timeZone,
        now
      )
      const capped = spendCapRule(
        limits,
        spent,
        this.money.spend.accrued(policy.companyId, now),
        price
      )
      if ('refusal' in capped) return capped
      if (capped.maxDurationSeconds !== null) budgets.push(capped.maxDurationSeconds)
    }
    if (userCaps) {
      const spent = await this.money.spend.spent(`user:${attempt.user.id}`, policy.timeZone, now)
      const capped = userSpendCapRule(
        user.spend,
        spent,
        this.money.spend.accrued(policy.companyId, now, attempt.user.id),
        price
      )
      if ('refusal' in capped) return capped
      if (capped.maxDurationSeconds !== null) budgets.push(capped.maxDurationSeconds)
    }
    return { price, maxDurationSeconds: budgets.length ? Math.min(...budgets) : null }
  }

  async check(attempt: CallAttempt): Promise<GateDecision> {
    const [policy, user, risk] = await Promise.all([
      this.policies.company(attempt.company),
      this.policies.user(attempt.user.id),
      this.policies.numberRisk(),
    ])
    const facts = risk.classify(attempt.destination)
    const refused =
      destinationRules(policy, user.suspension, facts) ??
      flaggedNumberRule(attempt.destination, policy.flaggedNumbers, this.now())
    if (refused) return refusal(refused)
    const money = await this.#moneyRules(attempt, policy, user)
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
