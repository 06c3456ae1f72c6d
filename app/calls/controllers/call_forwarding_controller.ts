import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import CallForwardingService, { CallForwardingError } from '#calls/internal/call_forwarding_service'
import {
  flashForwardingProblems,
  forwardingInputOf,
  forwardingValidator,
} from '#calls/validators/forwarding_validators'

/** The user's call forwarding: the form on the phone settings page, and JSON for the web phone. */
@inject()
export default class CallForwardingController {
  constructor(protected forwarding: CallForwardingService) {}

  async show({ auth, bouncer, response }: HttpContext) {
    await bouncer.authorize('permission', 'calls.place')
    response.header('Cache-Control', 'no-store')
    const rules = await this.forwarding.rulesOf(auth.getUserOrFail().id)
    return { active: rules.size > 0, rules: this.forwarding.summaryOf(rules) }
  }

  async update(ctx: HttpContext) {
    const { auth, bouncer, request, response, session, i18n } = ctx
    await bouncer.authorize('permission', 'calls.place')
    const form = await request.validateUsing(forwardingValidator)
    const user = auth.getUserOrFail()
    const company = await user.related('company').query().firstOrFail()
    try {
      await this.forwarding.update(user, company, forwardingInputOf(form), {
        actor: user,
        ip: request.ip(),
      })
    } catch (error) {
      if (!(error instanceof CallForwardingError)) throw error
      flashForwardingProblems(ctx, error)
      return response.redirect().toRoute('customer.phone_settings')
    }
    session.flash('notice', i18n.t('phone.forwarding.saved'))
    return response.redirect().toRoute('customer.phone_settings')
  }
}
