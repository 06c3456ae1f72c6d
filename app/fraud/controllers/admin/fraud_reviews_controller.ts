import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import app from '@adonisjs/core/services/app'
import type { FraudLimitOverrides } from '#fraud/models/fraud_company_policy'
import FraudReviewService, { CaseDecidedError } from '#fraud/services/fraud_review_service'
import { reviewDecisionValidator, reviewLimitsValidator } from '#fraud/validators/fraud_validators'

const LIMIT_INPUTS = [
  ['company', 'concurrent', 'company_concurrent'],
  ['company', 'perMinute', 'company_per_minute'],
  ['company', 'perHour', 'company_per_hour'],
  ['company', 'perDay', 'company_per_day'],
  ['user', 'concurrent', 'user_concurrent'],
  ['user', 'perMinute', 'user_per_minute'],
  ['user', 'perHour', 'user_per_hour'],
  ['user', 'perDay', 'user_per_day'],
] as const

/** Staff with fraud.review: the companies a critical signal suspended, with the evidence, and the decisions. */
@inject()
export default class FraudReviewsController {
  constructor(protected service: FraudReviewService) {}

  async index({ view, bouncer }: HttpContext) {
    await bouncer.with('FraudPolicy').authorize('review')
    return view.render('pages/admin/fraud/reviews', { cases: await this.service.open() })
  }

  async show({ params, view, bouncer }: HttpContext) {
    await bouncer.with('FraudPolicy').authorize('review')
    const reviewCase = await this.service.find(params.id)
    const policies = await app.container.make('fraud.policies')
    return view.render('pages/admin/fraud/review', {
      reviewCase,
      evidence: await this.service.evidence(reviewCase),
      effective: await policies.company(reviewCase.company),
      limitInputs: LIMIT_INPUTS,
    })
  }

  async #decided(action: () => Promise<void>, ctx: HttpContext, notice: string) {
    try {
      await action()
      ctx.session.flash('notice', ctx.i18n.t(notice))
    } catch (error) {
      if (!(error instanceof CaseDecidedError)) throw error
      ctx.session.flash('error', ctx.i18n.t('fraud.reviews.already_decided'))
    }
    return ctx.response.redirect().toRoute('admin.fraud.reviews.show', { id: ctx.params.id })
  }

  async clear(ctx: HttpContext) {
    await ctx.bouncer.with('FraudPolicy').authorize('review')
    const reviewCase = await this.service.find(ctx.params.id)
    const { reason } = await ctx.request.validateUsing(reviewDecisionValidator)
    const actor = { actor: ctx.auth.getUserOrFail(), ip: ctx.request.ip(), reason }
    return this.#decided(() => this.service.clear(reviewCase, actor), ctx, 'fraud.reviews.cleared')
  }

  async confirm(ctx: HttpContext) {
    await ctx.bouncer.with('FraudPolicy').authorize('review')
    const reviewCase = await this.service.find(ctx.params.id)
    const { reason } = await ctx.request.validateUsing(reviewDecisionValidator)
    const actor = { actor: ctx.auth.getUserOrFail(), ip: ctx.request.ip(), reason }
    return this.#decided(
      () => this.service.confirm(reviewCase, actor),
      ctx,
      'fraud.reviews.confirmed'
    )
  }

  async limits(ctx: HttpContext) {
    await ctx.bouncer.with('FraudPolicy').authorize('review')
    const reviewCase = await this.service.find(ctx.params.id)
    const input = await ctx.request.validateUsing(reviewLimitsValidator)
    const limits: FraudLimitOverrides = {}
    for (const [subject, field, name] of LIMIT_INPUTS) {
      const value = input[name]
      if (value !== null && value !== undefined)
        limits[subject] = { ...limits[subject], [field]: value }
    }
    if (input.calls_to_one_number_per_hour != null)
      limits.callsToOneNumberPerHour = input.calls_to_one_number_per_hour
    const actor = { actor: ctx.auth.getUserOrFail(), ip: ctx.request.ip(), reason: input.reason }
    return this.#decided(
      () => this.service.adjustLimits(reviewCase, limits, actor),
      ctx,
      'fraud.reviews.limits_adjusted'
    )
  }
}
