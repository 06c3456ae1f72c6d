import type Company from '#accounts/models/company'
import type { FraudConfig, FraudLimits, SpendLimits } from '#config/fraud'
import FraudCompanyPolicy, { type OutboundSuspension } from '#fraud/models/fraud_company_policy'
import FraudUserPolicy from '#fraud/models/fraud_user_policy'
import FraudRiskPrefix from '#fraud/models/fraud_risk_prefix'
import FraudFlaggedNumber from '#fraud/models/fraud_flagged_number'
import NumberRisk from '#fraud/services/number_risk'
import type { EffectivePolicy } from '#fraud/services/fraud_rules'

/** What the gate knows about a user: their own suspension and spend caps. */
export interface UserPolicy {
  suspension: OutboundSuspension
  spend: Pick<SpendLimits, 'dailyCapMicro' | 'monthlyCapMicro'>
}

interface Cached<T> {
  value: T
  loadedAt: number
}

/**
 * The policies the gate decides with, cached in process so the call path needs no query once
 * warm: the company's (its row or the defaults), users' suspensions and the risk prefix table.
 * Edits call `forget*`; other nodes see them after `policyCacheSeconds`.
 */
export default class FraudPolicies {
  #companies = new Map<number, Cached<EffectivePolicy>>()
  #users = new Map<number, Cached<UserPolicy>>()
  #risk: Cached<NumberRisk> | undefined
  #reloadingRisk: Promise<NumberRisk> | undefined

  constructor(
    private config: FraudConfig,
    private now: () => number = Date.now
  ) {}

  #fresh(loadedAt: number | undefined) {
    return loadedAt !== undefined && this.now() - loadedAt < this.config.policyCacheSeconds * 1000
  }

  /** The defaults of config/fraud.ts with a company's overrides. */
  effective(
    company: Pick<Company, 'id' | 'country'> & { timeZone?: string | null },
    row: FraudCompanyPolicy | null,
    flaggedNumbers: ReadonlyMap<string, number> = new Map()
  ): EffectivePolicy {
    const overrides = row?.limits ?? {}
    const merge = (base: FraudLimits, own: Partial<FraudLimits> | undefined) => ({
      ...base,
      ...own,
    })
    return {
      companyId: company.id,
      homeCountry: company.country,
      allowedCountries: new Set(row?.allowedCountries ?? this.config.allowedCountries),
      enabledRiskClasses: new Set(row?.enabledRiskClasses ?? this.config.enabledRiskClasses),
      suspension: row?.outboundSuspension ?? 'none',
      limits: {
        company: merge(this.config.limits.company, overrides.company),
        user: merge(this.config.limits.user, overrides.user),
        device: merge(this.config.limits.device, overrides.device),
      },
      callsToOneNumberPerHour:
        overrides.callsToOneNumberPerHour ?? this.config.callsToOneNumberPerHour,
      maxDurationSeconds:
        overrides.maxDurationSeconds === undefined
          ? this.config.maxDurationSeconds
          : overrides.maxDurationSeconds,
      timeZone: company.timeZone ?? this.config.timeZone,
      flaggedNumbers,
      spend: { ...this.config.spend, ...overrides.spend },
    }
  }

  async company(
    company: Pick<Company, 'id' | 'country'> & { timeZone?: string | null }
  ): Promise<EffectivePolicy> {
    const cached = this.#companies.get(company.id)
    if (cached && this.#fresh(cached.loadedAt)) return cached.value
    const row = await FraudCompanyPolicy.findBy('companyId', company.id)
    const flagged = await FraudFlaggedNumber.query()
      .where('company_id', company.id)
      .select('number', 'flagged_until')
    const flaggedNumbers = new Map(
      flagged.map((entry) => [entry.number, entry.flaggedUntil.toMillis()])
    )
    const value = this.effective(company, row, flaggedNumbers)
    this.#companies.set(company.id, { value, loadedAt: this.now() })
    return value
  }

  async user(userId: number): Promise<UserPolicy> {
    const cached = this.#users.get(userId)
    if (cached && this.#fresh(cached.loadedAt)) return cached.value
    const row = await FraudUserPolicy.findBy('userId', userId)
    const value: UserPolicy = {
      suspension: row?.outboundSuspension ?? 'none',
      spend: {
        dailyCapMicro: row?.dailyCapMicro ?? null,
        monthlyCapMicro: row?.monthlyCapMicro ?? null,
      },
    }
    this.#users.set(userId, { value, loadedAt: this.now() })
    return value
  }

  /** The prefix table; a stale one is used while the new one loads (only the first load waits). */
  async numberRisk(): Promise<NumberRisk> {
    const current = this.#risk
    if (current && this.#fresh(current.loadedAt)) return current.value
    const reloading = (this.#reloadingRisk ??= FraudRiskPrefix.query()
      .select('prefix', 'riskClass')
      .then((rows) => {
        const risk = new NumberRisk(
          rows.map((row) => ({ prefix: row.prefix, riskClass: row.riskClass }))
        )
        this.#risk = { value: risk, loadedAt: this.now() }
        return risk
      })
      .finally(() => (this.#reloadingRisk = undefined)))
    if (!current) return reloading
    // Nobody waits for a reload behind the stale table: a failed one (the database away) would be
    // an unhandled rejection, which ends the process. The stale table serves; the next call retries.
    reloading.catch(() => {})
    return current.value
  }

  forgetCompany(companyId: number) {
    this.#companies.delete(companyId)
  }

  forgetUser(userId: number) {
    this.#users.delete(userId)
  }

  forgetRiskPrefixes() {
    this.#risk = undefined
  }

  /** Everything is loaded again (tests, whose rolled-back ids come again). */
  forgetAll() {
    this.#companies.clear()
    this.#users.clear()
    this.#risk = undefined
  }
}
