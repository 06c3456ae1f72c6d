import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import { DateTime } from 'luxon'
import User from '#accounts/models/user'
import DataSubjectRequest, {
  REQUEST_ARTICLES,
  REQUEST_KINDS,
  type RequestKind,
} from '#privacy/models/data_subject_request'
import DataSubjectRequestService, {
  RequestError,
} from '#privacy/services/data_subject_request_service'
import ErasureService, { ErasureError, describeKept } from '#privacy/services/erasure_service'
import {
  closeValidator,
  extendValidator,
  mailedRequestValidator,
} from '#privacy/validators/data_subject_request_validator'

/** Staff with privacy.requests.handle: the queue of data-subject requests and their deadlines. */
@inject()
export default class DataSubjectRequestsController {
  constructor(
    protected requests: DataSubjectRequestService,
    protected erasure: ErasureService
  ) {}

  async index({ view, bouncer }: HttpContext) {
    await bouncer.with('InformationRequestPolicy').authorize('handle')
    const now = this.requests.now()
    return view.render('pages/admin/privacy/data_subject_requests', {
      requests: await this.requests.queue(),
      now,
      kinds: REQUEST_KINDS,
      articles: REQUEST_ARTICLES,
      today: now.setZone('Europe/Berlin').toISODate(),
    })
  }

  async store({ request, response, bouncer, auth, session, i18n }: HttpContext) {
    await bouncer.with('InformationRequestPolicy').authorize('handle')
    const data = await request.validateUsing(mailedRequestValidator)
    const known = await User.query().where('email', data.email).where('is_staff', false).first()
    const entry = await this.requests.enterFromMail(
      auth.getUserOrFail(),
      {
        name: data.name,
        email: data.email,
        kind: data.kind as RequestKind,
        details: data.details ?? null,
        receivedAt: DateTime.fromJSDate(data.received_on, { zone: 'Europe/Berlin' }).startOf('day'),
        userId: known?.id ?? null,
        companyId: known?.companyId ?? null,
      },
      request.ip()
    )
    session.flash('notice', i18n.t('privacy.queue.entered'))
    return response.redirect().toRoute('admin.privacy.data_requests.show', { id: entry.id })
  }

  async show({ params, view, bouncer }: HttpContext) {
    await bouncer.with('InformationRequestPolicy').authorize('handle')
    const entry = await DataSubjectRequest.findOrFail(params.id)
    const subject = entry.userId ? await User.find(entry.userId) : null
    return view.render('pages/admin/privacy/data_subject_request', {
      entry,
      subject,
      holds: subject && entry.kind === 'erasure' ? await this.erasure.holds(subject) : [],
      articles: REQUEST_ARTICLES,
      now: this.requests.now(),
    })
  }

  async extend({ params, request, response, bouncer, auth, session, i18n }: HttpContext) {
    await bouncer.with('InformationRequestPolicy').authorize('handle')
    const entry = await DataSubjectRequest.findOrFail(params.id)
    const { reason } = await request.validateUsing(extendValidator)
    try {
      await this.requests.extend(auth.getUserOrFail(), entry, reason, request.ip())
      session.flash('notice', i18n.t('privacy.queue.extended'))
    } catch (error) {
      if (!(error instanceof RequestError)) throw error
      session.flash('error', i18n.t(`privacy.queue.errors.${error.reason}`))
    }
    return response.redirect().toRoute('admin.privacy.data_requests.show', { id: entry.id })
  }

  async close({ params, request, response, bouncer, auth, session, i18n }: HttpContext) {
    await bouncer.with('InformationRequestPolicy').authorize('handle')
    const entry = await DataSubjectRequest.findOrFail(params.id)
    const data = await request.validateUsing(closeValidator)
    try {
      await this.requests.close(auth.getUserOrFail(), entry, {
        status: data.status as 'completed' | 'rejected',
        outcome: data.outcome,
        ip: request.ip(),
      })
      session.flash('notice', i18n.t('privacy.queue.closed'))
    } catch (error) {
      if (!(error instanceof RequestError)) throw error
      session.flash('error', i18n.t(`privacy.queue.errors.${error.reason}`))
    }
    return response.redirect().toRoute('admin.privacy.data_requests.show', { id: entry.id })
  }

  /** Carries out an erasure request for a customer user and closes it with what was kept. */
  async erase({ params, request, response, bouncer, auth, session, i18n }: HttpContext) {
    await bouncer.with('InformationRequestPolicy').authorize('handle')
    const entry = await DataSubjectRequest.findOrFail(params.id)
    const subject = entry.userId ? await User.find(entry.userId) : null
    if (entry.kind !== 'erasure' || entry.status !== 'open' || !subject) return response.notFound()
    const actor = auth.getUserOrFail()
    try {
      const kept = await this.erasure.erase(actor, subject, request.ip())
      await this.requests.close(actor, entry, {
        status: 'completed',
        outcome: describeKept(kept, (key, data) => i18n.t(key, data), i18n.locale),
        ip: request.ip(),
      })
      session.flash('notice', i18n.t('privacy.erasure.done'))
    } catch (error) {
      if (!(error instanceof ErasureError)) throw error
      session.flash('error', i18n.t(`privacy.erasure.errors.${error.reason}`))
    }
    return response.redirect().toRoute('admin.privacy.data_requests.show', { id: entry.id })
  }
}
