import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import { sqlTime } from '#core/sql_time'
import DataExportArchive from '#privacy/models/data_export_archive'
import DataSubjectRequestService, {
  RequestError,
} from '#privacy/services/data_subject_request_service'
import EmailChangeService from '#privacy/services/email_change_service'
import { REQUEST_ARTICLES, type RequestKind } from '#privacy/models/data_subject_request'
import {
  fileRequestValidator,
  profileValidator,
} from '#privacy/validators/data_subject_request_validator'

/** A user's own data-subject rights: the data export, rectification, erasure and objection requests. */
@inject()
export default class MyPrivacyController {
  constructor(
    protected requests: DataSubjectRequestService,
    protected emails: EmailChangeService
  ) {}

  async show({ view, auth }: HttpContext) {
    const user = auth.getUserOrFail()
    const requests = await this.requests.forUser(user.id)
    const archives = await DataExportArchive.query()
      .select('id', 'request_id', 'size_bytes', 'sha256', 'expires_at', 'created_at')
      .where('user_id', user.id)
      .where('expires_at', '>', sqlTime(this.requests.now()))
    return view.render('pages/customer/my_privacy', {
      user,
      requests,
      archives: new Map(archives.map((archive) => [archive.requestId, archive])),
      articles: REQUEST_ARTICLES,
      pendingEmail: await this.emails.pending(user),
    })
  }

  async requestExport({ auth, request, response, session, i18n }: HttpContext) {
    try {
      await this.requests.file(auth.getUserOrFail(), 'access', null, request.ip())
      session.flash('notice', i18n.t('privacy.mine.export_requested'))
    } catch (error) {
      if (!(error instanceof RequestError)) throw error
      session.flash('error', i18n.t('privacy.mine.export_open'))
    }
    return response.redirect().toRoute('customer.privacy.mine')
  }

  async download({ auth, params, response }: HttpContext) {
    const archive = await this.requests.archiveFor(auth.getUserOrFail(), Number(params.id))
    if (!archive) return response.notFound()
    response.header('content-type', 'application/zip')
    response.attachment(`fluffycall-data-${archive.createdAt.toISODate()}.zip`)
    return response.send(archive.archive)
  }

  async fileRequest({ auth, request, response, session, i18n }: HttpContext) {
    const data = await request.validateUsing(fileRequestValidator)
    await this.requests.file(
      auth.getUserOrFail(),
      data.kind as RequestKind,
      data.details,
      request.ip()
    )
    session.flash('notice', i18n.t('privacy.mine.request_filed'))
    return response.redirect().toRoute('customer.privacy.mine')
  }

  async updateProfile({ auth, request, response, session, i18n }: HttpContext) {
    const user = auth.getUserOrFail()
    const data = await request.validateUsing(profileValidator)
    await this.emails.rename(user, data.full_name, request.ip())
    const outcome = await this.emails.requestChange(user, data.email, request.ip())
    if (outcome === 'taken') session.flashErrors({ email: i18n.t('privacy.mine.email_taken') })
    else
      session.flash(
        'notice',
        i18n.t(outcome === 'sent' ? 'privacy.mine.email_link_sent' : 'privacy.mine.profile_saved')
      )
    return response.redirect().toRoute('customer.privacy.mine')
  }

  /** The link from the mail to the new address: the token is the proof, no login needed. */
  async confirmEmail({ params, request, response, session, i18n, auth }: HttpContext) {
    const user = await this.emails.confirm(params.token, request.ip())
    session.flash(
      user ? 'notice' : 'error',
      i18n.t(user ? 'privacy.mine.email_confirmed' : 'privacy.mine.email_link_invalid')
    )
    const loggedIn = await auth.check()
    return response.redirect().toPath(loggedIn ? '/app/privacy' : '/login')
  }
}
