import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import type User from '#accounts/models/user'
import CarrierManager from '#calls/carriers/carrier_manager'
import PhoneNumber from '#calls/models/phone_number'
import { expandNumberBlock, MAX_BLOCK_SIZE, NumberBlockError } from '#calls/services/number_block'
import NumberService, { NumberError } from '#calls/services/number_service'
import {
  assignNumbersValidator,
  importNumbersValidator,
  numberBlockActionValidator,
  numberFiltersValidator,
  numberMessages,
} from '#calls/validators/number_validators'

/** Where a refused change goes back to: its form, or the list for row actions. */
type FormRoute =
  | 'admin.numbers.import.create'
  | 'admin.numbers.assign.create'
  | 'admin.numbers.block.create'
  | 'admin.numbers.index'

type Change = (actor: { actor: User; ip: string }) => Promise<Record<string, unknown>>

/**
 * Staff with numbers.manage: import blocks per carrier, assign them to companies, release and
 * delete. Each block form has its own page, so an error lands next to the field that caused it.
 */
@inject()
export default class NumbersController {
  constructor(
    protected numbers: NumberService,
    protected manager: CarrierManager
  ) {}

  async index({ request, view, bouncer }: HttpContext) {
    await bouncer.with('NumberPolicy').authorize('manage')
    const filters = await numberFiltersValidator.validate(request.qs())
    const numbers = await this.numbers.list({
      carrier: filters.carrier,
      companyId: filters.company_id,
      free: filters.free,
      page: filters.page,
    })
    numbers.baseUrl('/admin/numbers')
    numbers.queryString(request.qs())
    return view.render('pages/admin/numbers/index', {
      numbers,
      filters,
      companies: await this.numbers.assignableCompanies(),
      carriers: this.manager.entries(),
      now: this.numbers.now(),
    })
  }

  async createImport({ view, bouncer }: HttpContext) {
    await bouncer.with('NumberPolicy').authorize('manage')
    return view.render('pages/admin/numbers/import', {
      carriers: this.manager.entries(),
      maxBlock: MAX_BLOCK_SIZE,
    })
  }

  async import(ctx: HttpContext) {
    await ctx.bouncer.with('NumberPolicy').authorize('manage')
    const input = await ctx.request.validateUsing(importNumbersValidator, {
      messagesProvider: numberMessages(ctx.i18n),
    })
    return this.#run(ctx, 'imported', 'admin.numbers.import.create', async (actor) => ({
      count: await this.numbers.import(input.carrier, expandNumberBlock(input), actor),
    }))
  }

  async createAssignment({ view, bouncer }: HttpContext) {
    await bouncer.with('NumberPolicy').authorize('manage')
    return view.render('pages/admin/numbers/assign', {
      companies: await this.numbers.assignableCompanies(),
      maxBlock: MAX_BLOCK_SIZE,
    })
  }

  async assign(ctx: HttpContext) {
    await ctx.bouncer.with('NumberPolicy').authorize('manage')
    const input = await ctx.request.validateUsing(assignNumbersValidator, {
      messagesProvider: numberMessages(ctx.i18n),
    })
    return this.#run(ctx, 'assigned', 'admin.numbers.assign.create', async (actor) => {
      const block = expandNumberBlock(input)
      await this.numbers.assignToCompany(block, input.company_id, actor)
      return { count: block.length }
    })
  }

  async createBlockAction({ view, bouncer }: HttpContext) {
    await bouncer.with('NumberPolicy').authorize('manage')
    return view.render('pages/admin/numbers/block', { maxBlock: MAX_BLOCK_SIZE })
  }

  /** Release or delete a whole block. */
  async blockAction(ctx: HttpContext) {
    await ctx.bouncer.with('NumberPolicy').authorize('manage')
    const input = await ctx.request.validateUsing(numberBlockActionValidator, {
      messagesProvider: numberMessages(ctx.i18n),
    })
    const outcome = input.action === 'release' ? 'released' : 'deleted'
    return this.#run(ctx, outcome, 'admin.numbers.block.create', async (actor) => {
      const block = expandNumberBlock(input)
      if (input.action === 'release') await this.numbers.release(block, actor)
      else await this.numbers.delete(block, actor)
      return { count: block.length }
    })
  }

  /** One row of the list. */
  async release(ctx: HttpContext) {
    await ctx.bouncer.with('NumberPolicy').authorize('manage')
    const row = await PhoneNumber.findOrFail(ctx.params.id)
    return this.#run(ctx, 'released', 'admin.numbers.index', async (actor) => {
      await this.numbers.release([row.number], actor)
      return { count: 1 }
    })
  }

  /** Port-out (staff workflow): the holder moves the number to another provider. */
  async requestPortOut(ctx: HttpContext) {
    await ctx.bouncer.with('NumberPolicy').authorize('manage')
    const row = await PhoneNumber.findOrFail(ctx.params.id)
    return this.#run(ctx, 'port_out_requested', 'admin.numbers.index', async (actor) => {
      await this.numbers.requestPortOut(row.number, actor)
      return { count: 1 }
    })
  }

  async completePortOut(ctx: HttpContext) {
    await ctx.bouncer.with('NumberPolicy').authorize('manage')
    const row = await PhoneNumber.findOrFail(ctx.params.id)
    return this.#run(ctx, 'port_out_completed', 'admin.numbers.index', async (actor) => {
      await this.numbers.completePortOut(row.number, actor)
      return { count: 1 }
    })
  }

  async destroy(ctx: HttpContext) {
    await ctx.bouncer.with('NumberPolicy').authorize('manage')
    const row = await PhoneNumber.findOrFail(ctx.params.id)
    return this.#run(ctx, 'deleted', 'admin.numbers.index', async (actor) => {
      await this.numbers.delete([row.number], actor)
      return { count: 1 }
    })
  }

  /**
   * Runs a change and goes to the list; a broken rule goes back to the form (`formRoute`) with
   * the message next to its field and the input kept.
   */
  async #run(
    { auth, request, response, session, i18n }: HttpContext,
    outcome: string,
    formRoute: FormRoute,
    change: Change
  ) {
    try {
      const values = await change({ actor: auth.getUserOrFail(), ip: request.ip() })
      session.flash('notice', i18n.t(`numbers.flash.${outcome}`, values as Record<string, number>))
      return response.redirect().toRoute('admin.numbers.index')
    } catch (error) {
      if (!(error instanceof NumberError || error instanceof NumberBlockError)) throw error
      const sample = error instanceof NumberError ? error.numbers : []
      const message = i18n.t(`numbers.errors.${error.code}`, {
        count: sample.length,
        numbers: sample.slice(0, 5).join(', ') + (sample.length > 5 ? ', …' : ''),
      })
      if (formRoute === 'admin.numbers.index') {
        session.flash('error', message)
      } else {
        session.flashAll()
        session.flashErrors({ [error.field]: message })
      }
      return response.redirect().toRoute(formRoute)
    }
  }
}
