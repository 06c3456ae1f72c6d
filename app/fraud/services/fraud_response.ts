import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import AuditLog from '#accounts/services/audit_log'
import type { FraudConfig } from '#config/fraud'
import { LookupCache } from '#core/caching/lookup_changes'
import type { SignalHit } from '#fraud/detection/types'
import FraudCompanyPolicy from '#fraud/models/fraud_company_policy'
import FraudFlaggedNumber from '#fraud/models/fraud_flagged_number'
import FraudReviewCase from '#fraud/models/fraud_review_case'
import FraudSignal from '#fraud/models/fraud_signal'
import type { FraudAlertChannel } from '#fraud/services/fraud_alert_channel'
import type FraudPolicies from '#fraud/services/fraud_policies'

/** A signal fires again while its condition lasts; the same level within this window is recorded once. */
const REPEAT_HOURS = 24

/**
 * The last signal recorded under each alert key. While a condition lasts, every call's analysis
 * finds the same signals again: the answer is kept, and any write to fraud_signals drops it.
 */
const lastSignals = new LookupCache<string, { level: string; at: number } | null>({
  tables: ['fraud_signals'],
})

/** The alert key of a signal: one alert per signal, company and subject (a country, a number...). */
export function alertKey(companyId: number | null, hit: Pick<SignalHit, 'signal' | 'subject'>) {
  return `fraud:${hit.signal}:${companyId === null ? 'platform' : `company:${companyId}`}:${hit.subject}`
}

/**
 * What happens when signals fire: the evidence is stored, an alert goes through the alert channel,
 * Wangiri callers are flagged, and at critical level the company's outbound international and
 * premium calling is suspended and a review case opened (issue 14, "Response").
 */
export default class FraudResponse {
  constructor(
    private config: FraudConfig,
    private alerts: FraudAlertChannel,
    private policies: FraudPolicies
  ) {}

  async handle(
    companyId: number | null,
    hits: SignalHit[],
    now: DateTime = DateTime.utc()
  ): Promise<FraudSignal[]> {
    const recorded: FraudSignal[] = []
    for (const hit of hits) {
      const key = alertKey(companyId, hit)
      const last = await lastSignals.get(key, async () => {
        const row = await FraudSignal.query()
          .where('alert_key', key)
          .orderBy('id', 'desc')
          .select('level', 'created_at')
          .first()
        return row ? { level: row.level, at: row.createdAt.toMillis() } : null
      })
      const repeats = last && last.at > now.minus({ hours: REPEAT_HOURS }).toMillis()
      if (repeats && (last.level === 'critical' || last.level === hit.level)) continue
      const signal = await FraudSignal.create({
        companyId,
        userId: hit.userId,
        signal: hit.signal,
        level: hit.level,
        alertKey: key,
        facts: hit.facts,
        createdAt: now,
      })
      recorded.push(signal)
      await this.alerts.raise(key, hit.level, hit.facts, { companyId, kind: `fraud_${hit.signal}` })
      if (companyId !== null && hit.flagNumbers?.length)
        await this.#flag(companyId, hit.flagNumbers, now)
      if (companyId !== null && hit.level === 'critical') await this.#suspend(companyId, signal)
    }
    return recorded
  }

  /** Wangiri: calling these numbers back is refused for some days (the gate reads them with the policy). */
  async #flag(companyId: number, numbers: string[], now: DateTime) {
    const until = now.plus({ days: this.config.detection.wangiriFlagDays })
    for (const number of numbers) {
      const row =
        (await FraudFlaggedNumber.query()
          .where('company_id', companyId)
          .where('number', number)
          .first()) ?? new FraudFlaggedNumber()
      row.merge({ companyId, number, reason: 'wangiri', flaggedUntil: until })
      if (!row.$isPersisted) row.createdAt = now
      await row.save()
    }
    this.policies.forgetCompany(companyId)
  }

  /**
   * Critical: outbound international and premium calls stop (calls at home and 110/112 go on) and
   * the company waits in the review queue; one open case per company collects the later signals.
   */
  async #suspend(companyId: number, signal: FraudSignal) {
    await db.transaction(async (trx) => {
      const row =
        (await FraudCompanyPolicy.query({ client: trx }).where('company_id', companyId).first()) ??
        new FraudCompanyPolicy().merge({
          companyId,
          allowedCountries: this.config.allowedCountries,
          enabledRiskClasses: this.config.enabledRiskClasses,
          outboundSuspension: 'none',
          limits: {},
        })
      row.useTransaction(trx)
      const previous = row.$isPersisted ? row.outboundSuspension : 'none'
      if (previous === 'none') {
        row.outboundSuspension = 'international_premium'
        await row.save()
      }
      const open = await FraudReviewCase.query({ client: trx })
        .where('company_id', companyId)
        .where('status', 'open')
        .first()
      if (!open) {
        await FraudReviewCase.create(
          { companyId, status: 'open', signalId: signal.id, previousSuspension: previous },
          { client: trx }
        )
      }
      await AuditLog.record(
        {
          action: 'fraud.suspended.automatically',
          actor: null,
          companyId,
          target: { type: 'company', id: companyId },
          details: {
            signal: signal.signal,
            level: signal.level,
            alertKey: signal.alertKey,
            before: previous,
            after: row.outboundSuspension,
          },
        },
        { client: trx }
      )
    })
    this.policies.forgetCompany(companyId)
  }
}
