import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import { DateTime } from 'luxon'
import Company from '#accounts/models/company'
import DataBreach, { BREACH_ROLES, type BreachRole } from '#privacy/models/data_breach'
import DataBreachService, { BreachError } from '#privacy/services/data_breach_service'
import {
  authorityNoticeValidator,
  breachNoticeValidator,
  breachValidator,
} from '#privacy/validators/data_subject_request_validator'

/** Staff with privacy.breaches.manage: the breach records and their notifications (Art. 33, 34). */
@inject()
export default class DataBreachesController {
  constructor(protected breaches: DataBreachService) {}

  async index({ view, bouncer }: HttpContext) {
    await bouncer.with('DataBreachPolicy').authorize('manage')
    const now = this.breaches.now()
    return view.render('pages/admin/privacy/data_breaches', {
      breaches: await DataBreach.query()
        .orderByRaw("case when status = 'open' then 0 else 1 end")
        .orderBy('id', 'desc'),
      now,
      roles: BREACH_ROLES,
      nowLocal: now.setZone('Europe/Berlin').toFormat("yyyy-LL-dd'T'HH:mm"),
    })
  }

  async store({ request, response, bouncer, auth }: HttpContext) {
    await bouncer.with('DataBreachPolicy').authorize('manage')
    const data = await request.validateUsing(breachValidator)
    const breach = await this.breaches.record(
      auth.getUserOrFail(),
      {
        title: data.title,
        nature: data.nature,
        dataConcerned: data.data_concerned,
        consequences: data.consequences,
        measures: data.measures,
        role: data.role as BreachRole,
        becameAwareAt: DateTime.fromISO(data.became_aware_at, { zone: 'Europe/Berlin' }),
      },
      request.ip()
    )
    return response.redirect().toRoute('admin.privacy.breaches.show', { id: breach.id })
  }

  async show({ params, view, bouncer }: HttpContext) {
    await bouncer.with('DataBreachPolicy').authorize('manage')
    const breach = await DataBreach.findOrFail(params.id)
    return view.render('pages/admin/privacy/data_breach', {
      breach,
      notices: await this.breaches.notices(breach),
      companies: await Company.query().whereNot('status', 'terminated').orderBy('legal_name'),
      now: this.breaches.now(),
    })
  }

  async notify({ params, request, response, bouncer, auth, session, i18n }: HttpContext) {
    await bouncer.with('DataBreachPolicy').authorize('manage')
    const breach = await DataBreach.findOrFail(params.id)
    const { company_ids: companyIds } = await request.validateUsing(breachNoticeValidator)
    await this.#act(session, i18n, async () => {
      const count = await this.breaches.notifyOwners(
        auth.getUserOrFail(),
        breach,
        companyIds,
        request.ip()
      )
      session.flash('notice', i18n.t('privacy.breach.notified', { count }))
    })
    return response.redirect().toRoute('admin.privacy.breaches.show', { id: breach.id })
  }

  async authority({ params, request, response, bouncer, auth, session, i18n }: HttpContext) {
    await bouncer.with('DataBreachPolicy').authorize('manage')
    const breach = await DataBreach.findOrFail(params.id)
    const data = await request.validateUsing(authorityNoticeValidator)
    await this.#act(session, i18n, async () => {
      await this.breaches.authorityNotified(
        auth.getUserOrFail(),
        breach,
        { reference: data.reference, delayReason: data.delay_reason ?? null },
        request.ip()
      )
      session.flash('notice', i18n.t('privacy.breach.authority_noted'))
    })
    return response.redirect().toRoute('admin.privacy.breaches.show', { id: breach.id })
  }

  async close({ params, request, response, bouncer, auth, session, i18n }: HttpContext) {
    await bouncer.with('DataBreachPolicy').authorize('manage')
    const breach = await DataBreach.findOrFail(params.id)
    await this.#act(session, i18n, () =>
      this.breaches.close(auth.getUserOrFail(), breach, request.ip())
    )
    return response.redirect().toRoute('admin.privacy.breaches.show', { id: breach.id })
  }

  async #act(
    session: HttpContext['session'],
    i18n: HttpContext['i18n'],
    fn: () => Promise<unknown>
  ) {
    try {
      await fn()
    } catch (error) {
      if (!(error instanceof BreachError)) throw error
      session.flash('error', i18n.t(`privacy.breach.errors.${error.reason}`))
    }
  }
}
