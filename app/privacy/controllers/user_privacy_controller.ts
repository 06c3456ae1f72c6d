import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import vine from '@vinejs/vine'
import User from '#accounts/models/user'
import ProcessingRestriction, { RESTRICTION_GROUNDS } from '#privacy/models/processing_restriction'
import RestrictionService, { RestrictionError } from '#privacy/services/restriction_service'
import ErasureService, { ErasureError, describeKept } from '#privacy/services/erasure_service'
import DataSubjectRequestService from '#privacy/services/data_subject_request_service'

const restrictValidator = vine.create({
  ground: vine.string().in([...RESTRICTION_GROUNDS]),
  note: vine.string().trim().maxLength(1000).optional(),
})

/**
 * The company admins' privacy tools for one of their users. FluffyCall is the company's processor
 * for its users' account and call data (Art. 28 GDPR): the company, as controller, answers its
 * users' requests with these tools.
 */
@inject()
export default class UserPrivacyController {
  constructor(
    protected restrictions: RestrictionService,
    protected erasure: ErasureService,
    protected requests: DataSubjectRequestService
  ) {}

  /** The admin's company, and the user of it named in the URL (404 for anyone else's). */
  protected async subject(ctx: HttpContext) {
    const actor = ctx.auth.getUserOrFail()
    const company = await actor.related('company').query().firstOrFail()
    await ctx.bouncer.with('CompanyPolicy').authorize('manageUsers', company)
    const user = await User.query()
      .where('id', ctx.params.id)
      .where('company_id', company.id)
      .first()
    return { actor, company, user }
  }

  async show(ctx: HttpContext) {
    const { user } = await this.subject(ctx)
    if (!user) return ctx.response.notFound()
    const history = await ProcessingRestriction.query()
      .where('user_id', user.id)
      .orderBy('restricted_at', 'desc')
    return ctx.view.render('pages/customer/user_privacy', {
      subject: user,
      active: history.find((row) => row.liftedAt === null) ?? null,
      history,
      grounds: RESTRICTION_GROUNDS,
      holds: await this.erasure.holds(user),
    })
  }

  async restrict(ctx: HttpContext) {
    const { actor, user } = await this.subject(ctx)
    if (!user) return ctx.response.notFound()
    const data = await ctx.request.validateUsing(restrictValidator)
    try {
      await this.restrictions.restrict(actor, user, {
        ground: data.ground as (typeof RESTRICTION_GROUNDS)[number],
        note: data.note ?? null,
        ip: ctx.request.ip(),
      })
      ctx.session.flash('notice', ctx.i18n.t('privacy.restriction.set_notice'))
    } catch (error) {
      if (!(error instanceof RestrictionError)) throw error
      ctx.session.flash('error', ctx.i18n.t(`privacy.restriction.${error.reason}`))
    }
    return ctx.response.redirect().toRoute('customer.privacy.user', { id: user.id })
  }

  async lift(ctx: HttpContext) {
    const { actor, user } = await this.subject(ctx)
    if (!user) return ctx.response.notFound()
    try {
      await this.restrictions.lift(actor, user, { ip: ctx.request.ip() })
      ctx.session.flash('notice', ctx.i18n.t('privacy.restriction.lifted_notice'))
    } catch (error) {
      if (!(error instanceof RestrictionError)) throw error
      ctx.session.flash('error', ctx.i18n.t(`privacy.restriction.${error.reason}`))
    }
    return ctx.response.redirect().toRoute('customer.privacy.user', { id: user.id })
  }

  /**
   * Erases the user on the company's decision (Art. 17 GDPR); the record of the request keeps what
   * was kept, why and until when, and the admin reads it at once.
   */
  async erase(ctx: HttpContext) {
    const { actor, user } = await this.subject(ctx)
    if (!user) return ctx.response.notFound()
    const ip = ctx.request.ip()
    try {
      const subject = {
        id: user.id,
        fullName: user.fullName,
        email: user.email,
        companyId: user.companyId,
      }
      const kept = await this.erasure.erase(actor, user, ip)
      const outcome = describeKept(kept, (key, data) => ctx.i18n.t(key, data), ctx.i18n.locale)
      await this.requests.recordAdminAction(actor, subject, 'erasure', outcome, ip)
      ctx.session.flash('notice', outcome)
      return ctx.response.redirect().toRoute('customer.team')
    } catch (error) {
      if (!(error instanceof ErasureError)) throw error
      ctx.session.flash('error', ctx.i18n.t(`privacy.erasure.errors.${error.reason}`))
      return ctx.response.redirect().toRoute('customer.privacy.user', { id: user.id })
    }
  }
}
