import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import RouteService, { RouteError, type RouteInput } from '#calls/services/route_service'
import { numberMessages } from '#calls/validators/number_validators'
import { routeValidator } from '#calls/validators/route_validators'

/** Staff with carriers.manage: the routing table of a region (prefix -> carriers, priority, weight). */
@inject()
export default class RoutesController {
  constructor(protected routes: RouteService) {}

  async index({ params, view, bouncer, response }: HttpContext) {
    await bouncer.with('CarrierPolicy').authorize('manage')
    if (!this.routes.regions().includes(params.region)) return response.notFound()
    return view.render('pages/admin/routes/index', {
      region: params.region,
      regions: this.routes.regions(),
      routes: await this.routes.list(params.region),
      carriers: this.routes.carriersOf(params.region),
    })
  }

  /** The first region's table; the carrier admin links here. */
  async home({ response, bouncer }: HttpContext) {
    await bouncer.with('CarrierPolicy').authorize('manage')
    return response.redirect().toRoute('admin.routes.index', { region: this.routes.regions()[0] })
  }

  async edit({ params, view, bouncer, response }: HttpContext) {
    await bouncer.with('CarrierPolicy').authorize('manage')
    const entry = await this.routes.find(params.region, Number(params.id))
    if (!entry) return response.notFound()
    return view.render('pages/admin/routes/edit', {
      region: params.region,
      entry,
      carriers: this.routes.carriersOf(params.region),
    })
  }

  async store(ctx: HttpContext) {
    await ctx.bouncer.with('CarrierPolicy').authorize('manage')
    const input = await this.#input(ctx)
    return this.#run(ctx, 'admin.routes.index', () =>
      this.routes.create(ctx.params.region, input, this.#actor(ctx))
    )
  }

  async update(ctx: HttpContext) {
    await ctx.bouncer.with('CarrierPolicy').authorize('manage')
    const input = await this.#input(ctx)
    return this.#run(ctx, 'admin.routes.edit', () =>
      this.routes.update(ctx.params.region, Number(ctx.params.id), input, this.#actor(ctx))
    )
  }

  async destroy(ctx: HttpContext) {
    await ctx.bouncer.with('CarrierPolicy').authorize('manage')
    return this.#run(ctx, 'admin.routes.index', () =>
      this.routes.delete(ctx.params.region, Number(ctx.params.id), this.#actor(ctx))
    )
  }

  async #input(ctx: HttpContext): Promise<RouteInput> {
    return ctx.request.validateUsing(routeValidator, { messagesProvider: numberMessages(ctx.i18n) })
  }

  #actor(ctx: HttpContext) {
    return { actor: ctx.auth.getUserOrFail(), ip: ctx.request.ip() }
  }

  /** Saves and returns to the region's table; a broken rule goes back to the form, next to its field. */
  async #run(
    { params, response, session, i18n }: HttpContext,
    formRoute: 'admin.routes.index' | 'admin.routes.edit',
    change: () => Promise<unknown>
  ) {
    try {
      await change()
      session.flash('notice', i18n.t('numbers.routes.saved'))
    } catch (error) {
      if (!(error instanceof RouteError)) throw error
      if (error.code === 'unknown_region' || error.code === 'not_found') return response.notFound()
      session.flashAll()
      session.flashErrors({
        [error.field ?? 'prefix']: i18n.t(`numbers.routes.errors.${error.code}`),
      })
      return response.redirect().toRoute(formRoute, { region: params.region, id: params.id })
    }
    return response.redirect().toRoute('admin.routes.index', { region: params.region })
  }
}
