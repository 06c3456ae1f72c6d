import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import { CallForwardingError } from '#calls/internal/call_forwarding_service'
import NumberForwardingService from '#calls/internal/number_forwarding_service'
import {
  flashForwardingProblems,
  forwardingInputOf,
  forwardingRowsOf,
  forwardingValidator,
} from '#calls/validators/forwarding_validators'

/** Company owners and admins (numbers.assign): the call forwarding of one of the company's numbers. */
@inject()
export default class NumberForwardingController {
  constructor(protected forwarding: NumberForwardingService) {}

  protected async numberOf(ctx: HttpContext) {
    const user = ctx.auth.getUserOrFail()
    const company = await user.related('company').query().firstOrFail()
    await ctx.bouncer.with('NumberPolicy').authorize('assign', company)
    const number = await this.forwarding.numberOf(company, Number(ctx.params.id))
    return { user, company, number }
  }

  async show(ctx: HttpContext) {
    const { company, number } = await this.numberOf(ctx)
    return ctx.view.render('pages/customer/number_forwarding', {
      number,
      forwarding: forwardingRowsOf(await this.forwarding.rulesOf(number.id)),
      forwardingColleagues: await this.forwarding.colleaguesOf(company),
    })
  }

  async update(ctx: HttpContext) {
    const { user, company, number } = await this.numberOf(ctx)
    const { request, response, session, i18n } = ctx
    const form = await request.validateUsing(forwardingValidator)
    try {
      await this.forwarding.update(company, number, forwardingInputOf(form), {
        actor: user,
        ip: request.ip(),
      })
    } catch (error) {
      if (!(error instanceof CallForwardingError)) throw error
      flashForwardingProblems(ctx, error)
      return response.redirect().toRoute('customer.numbers.forwarding', { id: number.id })
    }
    session.flash('notice', i18n.t('phone.forwarding.saved'))
    return response.redirect().toRoute('customer.numbers.forwarding', { id: number.id })
  }
}
