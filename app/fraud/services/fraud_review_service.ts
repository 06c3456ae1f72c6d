import { DateTime } from 'luxon'
import app from '@adonisjs/core/services/app'
import db from '@adonisjs/lucid/services/db'
import type User from '#accounts/models/user'
import AuditLog from '#accounts/services/audit_log'
import fraudConfig from '#config/fraud'
import { sqlTime } from '#core/sql_time'
import FraudCompanyPolicy, { type FraudLimitOverrides } from '#fraud/models/fraud_company_policy'
import FraudReviewCase from '#fraud/models/fraud_review_case'
import FraudSignal from '#fraud/models/fraud_signal'

interface Decision {
  actor: User
  ip: string
  /** Why: every decision is audited with it. */
  reason: string
}

/** A case that is no longer open cannot be decided again. */
export class CaseDecidedError extends Error {
  constructor(readonly reviewCase: FraudReviewCase) {
    super(`review case ${reviewCase.id} is ${reviewCase.status}`)
  }
}

/** How far before a case the evidence reaches (the signals that led up to it). */
const EVIDENCE_HOURS_BEFORE = 24

/**
 * The review queue (issue 14, "Response"): staff with fraud.review see the companies a critical
 * signal suspended with the evidence, and clear (the suspension is lifted to what it was), confirm
 * (it stays) or adjust the company's limits. Every decision is audited with its reason.
 */
export default class FraudReviewService {
  open() {
    return FraudReviewCase.query()
      .where('status', 'open')
      .preload('company')
      .preload('signal')
      .orderBy('created_at', 'asc')
  }

  async find(id: number) {
    const reviewCase = await FraudReviewCase.findOrFail(id)
    await reviewCase.load('company')
    return reviewCase
  }

  /** The company's signals from a day before the case up to now (or its decision), newest first. */
  evidence(reviewCase: FraudReviewCase) {
    const query = FraudSignal.query()
      .where('company_id', reviewCase.companyId)
      .where(
        'created_at',
        '>=',
        sqlTime(reviewCase.createdAt.minus({ hours: EVIDENCE_HOURS_BEFORE }))
      )
      .orderBy('id', 'desc')
      .limit(100)
    if (reviewCase.decidedAt) query.where('created_at', '<=', sqlTime(reviewCase.decidedAt))
    return query
  }

  async #policies() {
    return app.container.make('fraud.policies')
  }

  #ensureOpen(reviewCase: FraudReviewCase) {
    if (reviewCase.status !== 'open') throw new CaseDecidedError(reviewCase)
  }

  async #decide(
    reviewCase: FraudReviewCase,
    status: 'cleared' | 'confirmed',
    decision: Decision,
    trx: any
  ) {
    reviewCase.useTransaction(trx)
    reviewCase.merge({
      status,
      decidedById: decision.actor.id,
      decisionReason: decision.reason,
      decidedAt: DateTime.utc(),
    })
    await reviewCase.save()
  }

  /** A false alarm: the suspension goes back to what it was before the signal; the alerts are cleared. */
  async clear(reviewCase: FraudReviewCase, decision: Decision) {
    this.#ensureOpen(reviewCase)
    const keys = (await this.evidence(reviewCase)).map((signal) => signal.alertKey)
    let before = 'none'
    await db.transaction(async (trx) => {
      const policy = await FraudCompanyPolicy.query({ client: trx })
        .where('company_id', reviewCase.companyId)
        .first()
      if (policy) {
        before = policy.outboundSuspension
        policy.useTransaction(trx)
        policy.outboundSuspension = reviewCase.previousSuspension
        await policy.save()
      }
      await this.#decide(reviewCase, 'cleared', decision, trx)
      await AuditLog.record(
        {
          action: 'fraud.review.cleared',
          actor: decision.actor,
          companyId: reviewCase.companyId,
          target: { type: 'fraud_review_case', id: reviewCase.id },
          details: { reason: decision.reason, before, after: reviewCase.previousSuspension },
          ip: decision.ip,
        },
        { client: trx }
      )
    })
    ;(await this.#policies()).forgetCompany(reviewCase.companyId)
    const alerts = await app.container.make('fraud.alerts')
    for (const key of new Set(keys)) await alerts.clear(key)
  }

  /** Fraud it was: the suspension stays (staff lift it later on the company's fraud page). */
  async confirm(reviewCase: FraudReviewCase, decision: Decision) {
    this.#ensureOpen(reviewCase)
    await db.transaction(async (trx) => {
      await this.#decide(reviewCase, 'confirmed', decision, trx)
      const policy = await FraudCompanyPolicy.query({ client: trx })
        .where('company_id', reviewCase.companyId)
        .first()
      await AuditLog.record(
        {
          action: 'fraud.review.confirmed',
          actor: decision.actor,
          companyId: reviewCase.companyId,
          target: { type: 'fraud_review_case', id: reviewCase.id },
          details: { reason: decision.reason, suspension: policy?.outboundSuspension ?? 'none' },
          ip: decision.ip,
        },
        { client: trx }
      )
    })
  }

  /** Tighter (or wider) limits for the company while the case stays open. */
  async adjustLimits(reviewCase: FraudReviewCase, limits: FraudLimitOverrides, decision: Decision) {
    this.#ensureOpen(reviewCase)
    await db.transaction(async (trx) => {
      const policy =
        (await FraudCompanyPolicy.query({ client: trx })
          .where('company_id', reviewCase.companyId)
          .first()) ??
        new FraudCompanyPolicy().merge({
          companyId: reviewCase.companyId,
          allowedCountries: fraudConfig.allowedCountries,
          enabledRiskClasses: fraudConfig.enabledRiskClasses,
          outboundSuspension: 'none',
          limits: {},
        })
      const before = policy.limits
      policy.useTransaction(trx)
      policy.limits = {
        ...before,
        ...limits,
        company: { ...before.company, ...limits.company },
        user: { ...before.user, ...limits.user },
        device: { ...before.device, ...limits.device },
      }
      await policy.save()
      await AuditLog.record(
        {
          action: 'fraud.review.limits_adjusted',
          actor: decision.actor,
          companyId: reviewCase.companyId,
          target: { type: 'fraud_review_case', id: reviewCase.id },
          details: { reason: decision.reason, before, after: policy.limits },
          ip: decision.ip,
        },
        { client: trx }
      )
    })
    ;(await this.#policies()).forgetCompany(reviewCase.companyId)
  }
}
