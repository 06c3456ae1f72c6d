import { inject } from '@adonisjs/core'
import { readFile } from 'node:fs/promises'
import { DateTime } from 'luxon'
import type { HttpContext } from '@adonisjs/core/http'
import { parseCents } from '#billing/amounts'
import PriceListService, {
  BILLING_TIME_ZONE,
  PriceListError,
} from '#billing/services/price_list_service'
import { versionValidAt } from '#billing/tariff_arithmetic'
import {
  billingMessages,
  feesValidator,
  priceListValidator,
  rateValidator,
  versionQueryValidator,
  versionValidator,
} from '#billing/validators/price_list_validators'

/**
 * Staff with billing.manage: the default price list and the companies' overrides, their versions
 * by date, the destinations of each version with purchase prices and margins, CSV in and out.
 */
@inject()
export default class PriceListsController {
  constructor(protected prices: PriceListService) {}

  async index({ view, bouncer }: HttpContext) {
    await bouncer.with('BillingPolicy').authorize('manage')
    const now = DateTime.utc()
    const lists = await this.prices.lists()
    return view.render('pages/admin/billing/price_lists', {
      lists: lists.map((list) => ({ list, current: versionValidAt(now, list.versions) })),
      hasDefault: lists.some((list) => list.isDefault),
      companies: await this.prices.companiesWithoutList(),
    })
  }

  async show({ params, request, view, bouncer, response }: HttpContext) {
    await bouncer.with('BillingPolicy').authorize('manage')
    const { version: versionId } = await versionQueryValidator.validate(request.qs())
    const list = await this.#list(params.id)
    if (!list) return response.notFound()
    const now = DateTime.utc()
    const current = versionValidAt(now, list.versions)
    const selected = versionId
      ? list.versions.find((entry) => entry.id === versionId)
      : (current ?? list.versions[0])
    if (versionId && !selected) return response.notFound()
    return view.render('pages/admin/billing/price_list', {
      list,
      versions: list.versions.map((version) => ({
        version,
        status:
          version.id === current?.id ? 'current' : version.validFrom > now ? 'upcoming' : 'past',
      })),
      selected: selected ?? null,
      editable: selected ? selected.validFrom > now : false,
      rates: selected ? await this.prices.withMargins(await this.prices.rates(selected)) : [],
      tomorrow: now.setZone(BILLING_TIME_ZONE).plus({ days: 1 }).toISODate(),
      timeZone: BILLING_TIME_ZONE,
    })
  }

  async store(ctx: HttpContext) {
    await ctx.bouncer.with('BillingPolicy').authorize('manage')
    const input = await ctx.request.validateUsing(priceListValidator, {
      messagesProvider: billingMessages(ctx.i18n),
    })
    return this.#run(ctx, null, async () => {
      const list = await this.prices.create(
        { name: input.name, companyId: input.company_id ?? null },
        this.#actor(ctx)
      )
      return ctx.response.redirect().toRoute('admin.billing.price_lists.show', { id: list.id })
    })
  }

  async storeVersion(ctx: HttpContext) {
    await ctx.bouncer.with('BillingPolicy').authorize('manage')
    const list = await this.#list(ctx.params.id)
    if (!list) return ctx.response.notFound()
    const input = await ctx.request.validateUsing(versionValidator, {
      messagesProvider: billingMessages(ctx.i18n),
    })
    return this.#run(ctx, list.id, async () => {
      const version = await this.prices.addVersion(list, input.valid_from, this.#actor(ctx))
      return this.#back(ctx, list.id, version.id)
    })
  }

  async storeRate(ctx: HttpContext) {
    await ctx.bouncer.with('BillingPolicy').authorize('manage')
    const list = await this.#list(ctx.params.id)
    if (!list) return ctx.response.notFound()
    const input = await ctx.request.validateUsing(rateValidator, {
      messagesProvider: billingMessages(ctx.i18n),
    })
    return this.#run(ctx, list.id, async () => {
      const version = this.prices.version(list, Number(ctx.params.versionId))
      await this.prices.saveRate(
        list,
        version,
        {
          prefix: input.prefix ?? '',
          destination: input.destination,
          pricePerMinute: parseCents(input.price)!,
          connectionFee: parseCents(input.connection_fee)!,
          increment: input.increment,
        },
        this.#actor(ctx)
      )
      return this.#back(ctx, list.id, version.id)
    })
  }

  async updateFees(ctx: HttpContext) {
    await ctx.bouncer.with('BillingPolicy').authorize('manage')
    const list = await this.#list(ctx.params.id)
    if (!list) return ctx.response.notFound()
    const input = await ctx.request.validateUsing(feesValidator, {
      messagesProvider: billingMessages(ctx.i18n),
    })
    return this.#run(ctx, list.id, async () => {
      const version = this.prices.version(list, Number(ctx.params.versionId))
      const fees = {
        seat: input.seat_fee ? parseCents(input.seat_fee) : null,
        number: input.number_fee ? parseCents(input.number_fee) : null,
      }
      await this.prices.saveFees(list, version, fees, this.#actor(ctx))
      return this.#back(ctx, list.id, version.id)
    })
  }

  async destroyRate(ctx: HttpContext) {
    await ctx.bouncer.with('BillingPolicy').authorize('manage')
    const list = await this.#list(ctx.params.id)
    if (!list) return ctx.response.notFound()
    return this.#run(ctx, list.id, async () => {
      const version = this.prices.version(list, Number(ctx.params.versionId))
      await this.prices.deleteRate(list, version, Number(ctx.params.rateId), this.#actor(ctx))
      return this.#back(ctx, list.id, version.id)
    })
  }

  async export({ params, bouncer, response }: HttpContext) {
    await bouncer.with('BillingPolicy').authorize('manage')
    const list = await this.#list(params.id)
    const version = list?.versions.find((entry) => entry.id === Number(params.versionId))
    if (!list || !version) return response.notFound()
    const day = version.validFrom.setZone(BILLING_TIME_ZONE).toISODate()
    response.header('content-type', 'text/csv; charset=utf-8')
    response.attachment(`price-list-${list.id}-${day}.csv`)
    return response.send(await this.prices.exportCsv(version))
  }

  async import(ctx: HttpContext) {
    await ctx.bouncer.with('BillingPolicy').authorize('manage')
    const list = await this.#list(ctx.params.id)
    if (!list) return ctx.response.notFound()
    const file = ctx.request.file('file', { size: '2mb', extnames: ['csv', 'txt'] })
    return this.#run(ctx, list.id, async () => {
      const version = this.prices.version(list, Number(ctx.params.versionId))
      if (!file || !file.isValid || !file.tmpPath) {
        ctx.session.flashErrors({ file: ctx.i18n.t('billing.csv.errors.file') })
        return this.#back(ctx, list.id, version.id)
      }
      const count = await this.prices.importCsv(
        list,
        version,
        await readFile(file.tmpPath, 'utf8'),
        this.#actor(ctx)
      )
      return this.#back(ctx, list.id, version.id, ctx.i18n.t('billing.csv.imported', { count }))
    })
  }

  async #list(id: unknown) {
    const number = Number(id)
    if (!Number.isInteger(number)) return null
    return this.prices.find(number).catch((error) => {
      if (error instanceof PriceListError) return null
      throw error
    })
  }

  #actor(ctx: HttpContext) {
    return { actor: ctx.auth.getUserOrFail(), ip: ctx.request.ip() }
  }

  #back(
    { response, session, i18n }: HttpContext,
    id: number,
    versionId: number,
    notice = i18n.t('billing.saved')
  ) {
    session.flash('notice', notice)
    return response
      .redirect()
      .withQs({ version: versionId })
      .toRoute('admin.billing.price_lists.show', { id })
  }

  /** Runs a change; a broken rule goes back to the page with the message next to its field. */
  async #run(
    { response, session, i18n, params, request }: HttpContext,
    listId: number | null,
    change: () => Promise<unknown>
  ) {
    try {
      return await change()
    } catch (error) {
      if (!(error instanceof PriceListError)) throw error
      if (error.code === 'not_found') return response.notFound()
      session.flashAll()
      const message =
        error.code === 'csv'
          ? error.problems
              .map((problem) =>
                i18n.t(`billing.csv.errors.${problem.code}`, { line: problem.line })
              )
              .join(' ')
          : i18n.t(`billing.errors.${error.code}`)
      session.flashErrors({ [error.field ?? 'prefix']: message })
      if (listId === null) return response.redirect().toRoute('admin.billing.price_lists.index')
      const versionId = params.versionId ?? request.qs().version
      return response
        .redirect()
        .withQs(versionId ? { version: versionId } : {})
        .toRoute('admin.billing.price_lists.show', { id: listId })
    }
  }
}
