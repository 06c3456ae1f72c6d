import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import { parseCents } from '#billing/amounts'
import PriceListService, { PriceListError } from '#billing/services/price_list_service'
import { billingMessages, purchasePriceValidator } from '#billing/validators/price_list_validators'

/** Staff with billing.manage: what each carrier charges us per destination prefix. */
@inject()
export default class PurchasePricesController {
  constructor(protected prices: PriceListService) {}

  async index({ view, bouncer }: HttpContext) {
    await bouncer.with('BillingPolicy').authorize('manage')
    return view.render('pages/admin/billing/purchase_prices', {
      prices: await this.prices.purchasePrices(),
    })
  }

  async store(ctx: HttpContext) {
    await ctx.bouncer.with('BillingPolicy').authorize('manage')
    const input = await ctx.request.validateUsing(purchasePriceValidator, {
      messagesProvider: billingMessages(ctx.i18n),
    })
    await this.prices.savePurchasePrice(
      {
        carrierName: input.carrier_name,
        prefix: input.prefix ?? '',
        pricePerMinute: parseCents(input.price)!,
      },
      { actor: ctx.auth.getUserOrFail(), ip: ctx.request.ip() }
    )
    ctx.session.flash('notice', ctx.i18n.t('billing.saved'))
    return ctx.response.redirect().toRoute('admin.billing.purchase_prices.index')
  }

  async destroy({ params, bouncer, auth, request, response, session, i18n }: HttpContext) {
    await bouncer.with('BillingPolicy').authorize('manage')
    try {
      await this.prices.deletePurchasePrice(Number(params.id), {
        actor: auth.getUserOrFail(),
        ip: request.ip(),
      })
    } catch (error) {
      if (error instanceof PriceListError) return response.notFound()
      throw error
    }
    session.flash('notice', i18n.t('billing.saved'))
    return response.redirect().toRoute('admin.billing.purchase_prices.index')
  }
}
