import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import { DateTime } from 'luxon'
import CarrierDirectory from '#calls/services/carrier_directory'
import CarrierHealthService from '#calls/services/carrier_health_service'
import CarrierLifecycleService, {
  CarrierLifecycleError,
} from '#calls/services/carrier_lifecycle_service'
import {
  announceValidator,
  credentialsValidator,
  enabledValidator,
} from '#calls/validators/carrier_validators'

/** Staff with carriers.manage: carrier list, credentials, lifecycle and the database switch. */
@inject()
export default class CarriersController {
  constructor(
    protected directory: CarrierDirectory,
    protected lifecycle: CarrierLifecycleService,
    protected health: CarrierHealthService
  ) {}

  async index({ view, bouncer }: HttpContext) {
    await bouncer.with('CarrierPolicy').authorize('manage')
    return view.render('pages/admin/carriers/index', {
      carriers: await this.directory.all(),
      health: this.health.all(),
    })
  }

  async show({ params, view, bouncer, response }: HttpContext) {
    await bouncer.with('CarrierPolicy').authorize('manage')
    const carrier = await this.directory.find(params.name)
    if (!carrier) return response.notFound()
    return view.render('pages/admin/carriers/show', {
      carrier,
      defaultEffectiveDate: this.lifecycle.defaultEffectiveDate().toISODate(),
      hasStoredCredentials: Boolean(carrier.state?.credentialsSealed),
      health: this.health.health(carrier.entry.name),
    })
  }

  async updateCredentials(ctx: HttpContext) {
    await ctx.bouncer.with('CarrierPolicy').authorize('manage')
    const credentials = await ctx.request.validateUsing(credentialsValidator)
    return this.#run(ctx, () =>
      this.lifecycle.updateCredentials(
        ctx.params.name,
        credentials,
        ctx.auth.getUserOrFail(),
        ctx.request.ip()
      )
    )
  }

  async announce(ctx: HttpContext) {
    await ctx.bouncer.with('CarrierPolicy').authorize('manage')
    const { effective_date: date } = await ctx.request.validateUsing(announceValidator)
    const effective = date ? DateTime.fromJSDate(date, { zone: 'utc' }) : undefined
    return this.#run(ctx, () =>
      this.lifecycle.announce(
        ctx.params.name,
        ctx.auth.getUserOrFail(),
        ctx.request.ip(),
        effective
      )
    )
  }

  async activate(ctx: HttpContext) {
    await ctx.bouncer.with('CarrierPolicy').authorize('manage')
    return this.#run(ctx, () =>
      this.lifecycle.activate(ctx.params.name, ctx.auth.getUserOrFail(), ctx.request.ip())
    )
  }

  async withdraw(ctx: HttpContext) {
    await ctx.bouncer.with('CarrierPolicy').authorize('manage')
    return this.#run(ctx, () =>
      this.lifecycle.withdraw(ctx.params.name, ctx.auth.getUserOrFail(), ctx.request.ip())
    )
  }

  async updateEnabled(ctx: HttpContext) {
    await ctx.bouncer.with('CarrierPolicy').authorize('manage')
    const { enabled } = await ctx.request.validateUsing(enabledValidator)
    return this.#run(ctx, () =>
      this.lifecycle.setEnabled(
        ctx.params.name,
        enabled,
        ctx.auth.getUserOrFail(),
        ctx.request.ip()
      )
    )
  }

  /** Runs a change, flashes its outcome and returns to the carrier page. */
  async #run({ params, response, session, i18n }: HttpContext, change: () => Promise<unknown>) {
    try {
      await change()
      session.flash('notice', i18n.t('carriers.saved'))
    } catch (error) {
      if (!(error instanceof CarrierLifecycleError)) throw error
      if (error.code === 'unknown') return response.notFound()
      session.flash('error', i18n.t(`carriers.errors.${error.code}`))
    }
    return response.redirect().toRoute('admin.carriers.show', { name: params.name })
  }
}
