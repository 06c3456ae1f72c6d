import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import InternalDirectory from '#calls/internal/internal_directory'
import NumberService, { NumberError } from '#calls/services/number_service'
import NumberForwardingService from '#calls/internal/number_forwarding_service'
import {
  assignUserValidator,
  defaultCallerIdValidator,
  numberMessages,
} from '#calls/validators/number_validators'

/** Company owners and admins (numbers.assign): the company's numbers, who holds them, default caller IDs. */
@inject()
export default class NumbersController {
  constructor(
    protected numbers: NumberService,
    protected forwarding: NumberForwardingService
  ) {}

  protected async companyOf(ctx: HttpContext) {
    const user = ctx.auth.getUserOrFail()
    const company = await user.related('company').query().firstOrFail()
    await ctx.bouncer.with('NumberPolicy').authorize('assign', company)
    return { user, company }
  }

  async index(ctx: HttpContext) {
    const { company } = await this.companyOf(ctx)
    const { numbers, users, callerIds } = await this.numbers.companyOverview(company)
    const extensions = await new InternalDirectory().extensionsOf(users.map((user) => user.id))
    return ctx.view.render('pages/customer/numbers', {
      numbers,
      users,
      callerIds,
      extensions: Object.fromEntries(extensions),
      forwardings: await this.forwarding.summariesOf(company),
    })
  }

  async assignUser(ctx: HttpContext) {
    const { user, company } = await this.companyOf(ctx)
    const { user_id: userId } = await ctx.request.validateUsing(assignUserValidator, {
      messagesProvider: numberMessages(ctx.i18n),
    })
    return this.#run(ctx, () =>
      this.numbers.assignUser(company, Number(ctx.params.id), userId, {
        actor: user,
        ip: ctx.request.ip(),
      })
    )
  }

  async setDefault(ctx: HttpContext) {
    const { user, company } = await this.companyOf(ctx)
    const { phone_number_id: numberId } = await ctx.request.validateUsing(
      defaultCallerIdValidator,
      { messagesProvider: numberMessages(ctx.i18n) }
    )
    return this.#run(ctx, () =>
      this.numbers.setDefaultCallerId(company, Number(ctx.params.userId), numberId, {
        actor: user,
        ip: ctx.request.ip(),
      })
    )
  }

  async #run({ response, session, i18n }: HttpContext, change: () => Promise<unknown>) {
    try {
      await change()
      session.flash('notice', i18n.t('numbers.flash.saved'))
    } catch (error) {
      if (!(error instanceof NumberError)) throw error
      session.flash('error', i18n.t(`numbers.errors.${error.code}`, { count: 0, numbers: '' }))
    }
    return response.redirect().toRoute('customer.numbers')
  }
}
