import type { CallAttempt, CallGate, GateDecision } from '#calls/gates/call_gate'
import type { FraudConfig } from '#config/fraud'
import type FraudPolicies from '#fraud/services/fraud_policies'
import type { UserPolicy } from '#fraud/services/fraud_policies'
import type FraudLimiter from '#fraud/services/fraud_limiter'
import type { CounterCheck, LimitSubject } from '#fraud/services/fraud_limiter'
import type { ConcurrentCallLeases } from '#fraud/services/call_leases'
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
    private leases: ConcurrentCallLeases,
    private now: () => number = Date.now,
    private money: MoneyRules | null = null
  ) {}

  /**
   * Maximum price per minute and spend caps (the company's and the user's own); only companies
   * and users with a money limit pay for the lookups. The caps become checks on the spend
   * counters, taken with the counting limits in one step; `budget` turns the spend they read
   * into the call's maximum duration.
   */
  async #moneyRules(
    attempt: CallAttempt,
    policy: EffectivePolicy,
    user: UserPolicy
  ): Promise<
    | { refusal: FraudRefusal }
    | { price: number | null; checks: CounterCheck[]; budget(values: number[]): number | null }
  > {
    const limits = policy.spend
    const none = { price: null, checks: [], budget: () => null }
    const companyCaps = hasSpendCap(limits)
    const userCaps = hasSpendCap(user.spend)
    if (!this.money || (limits.maxPricePerMinuteMicro === null && !companyCaps && !userCaps)) {
      return none
    }
    const spend = this.money.spend
    const price = await this.money.prices.perMinuteMicro(policy.companyId, attempt.destination)
    const tooExpensive = priceRule(price, limits.maxPricePerMinuteMicro)
    if (tooExpensive) return { refusal: tooExpensive }
    const now = this.now()
    const caps = [
      ...(companyCaps
        ? [
            {
              subject: `company:${policy.companyId}`,
              limits,
              accrued: spend.accrued(policy.companyId, now),
              rule: spendCapRule,
              phrase: 'Spend limit reached',
              prefix: '',
            },
          ]
        : []),
      ...(userCaps
        ? [
            {
              subject: `user:${attempt.user.id}`,
              limits: user.spend,
              accrued: spend.accrued(policy.companyId, now, attempt.user.id),
              rule: userSpendCapRule,
              phrase: 'Personal spend limit reached',
              prefix: 'user_',
            },
          ]
        : []),
    ]
    // spendCapRule refuses when cap - spent - accrued <= 0: the spent counter must stay below
    // cap - accrued (daily before monthly, the company before the user, as the rules order them).
    const checks: CounterCheck[] = []
    const read: Array<{ cap: number; period: 'day' | 'month' }> = []
    for (const cap of caps) {
      const keys = spend.keys(cap.subject, policy.timeZone, now)
      for (const [period, capMicro] of [
        ['day', cap.limits.dailyCapMicro],
        ['month', cap.limits.monthlyCapMicro],
      ] as const) {
        if (capMicro === null) continue
        checks.push({
          key: keys[period],
          below: capMicro - cap.accrued,
          refusal: {
            reason: `${cap.prefix}${period === 'day' ? 'daily' : 'monthly'}_spend_cap`,
            phrase: cap.phrase,
          },
        })
        read.push({ cap: caps.indexOf(cap), period })
      }
    }
    return {
      price,
      checks,
      budget(values) {
        const spent = caps.map(() => ({ day: 0, month: 0 }))
        read.forEach((entry, index) => (spent[entry.cap][entry.period] = values[index]))
        const budgets: number[] = []
        caps.forEach((cap, index) => {
          const capped = cap.rule(cap.limits, spent[index], cap.accrued, price)
          if (!('refusal' in capped) && capped.maxDurationSeconds !== null)
            budgets.push(capped.maxDurationSeconds)
        })
        return budgets.length ? Math.min(...budgets) : null
      },
    }
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
      policy.timeZone,
      money.checks,
      attempt.callUuid
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
    const budget = money.budget(admitted.values)
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
