import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import vine from '@vinejs/vine'
import DpaService, { DpaAcceptanceError } from '#privacy/dpa/dpa_service'
import DpaAcceptance from '#privacy/models/dpa_acceptance'
import { dpaLocale } from '#privacy/dpa/dpa_catalogue'
import { dpaBlocks } from '#privacy/dpa/dpa_text'
import { openSnapshot } from '#privacy/dpa/dpa_snapshot'
import { renderDpaPdf } from '#privacy/dpa/dpa_pdf'

const acceptValidator = vine.create({
  version: vine.string().maxLength(20),
  confirm: vine.accepted(),
})

/**
 * The customer's DPA page: the current version, what changed since the version the company
 * accepted, the owner's acceptance, and the accepted versions as PDF.
 */
@inject()
export default class DpaController {
  constructor(protected dpa: DpaService) {}

  async show({ view, auth, i18n }: HttpContext) {
    const user = auth.getUserOrFail()
    const company = await user.related('company').query().firstOrFail()
    const status = await this.dpa.status(company)
    const locale = dpaLocale(i18n.locale)
    const catalogue = this.dpa.versions
    const changes =
      status.state === 'accepted'
        ? []
        : catalogue.changesBetween(status.latest?.version ?? null, status.current)
    const acceptances = await DpaAcceptance.query()
      .where('company_id', company.id)
      .orderBy('accepted_at', 'desc')
    return view.render('pages/customer/dpa', {
      status,
      blocks: dpaBlocks(await catalogue.text(status.current, locale)),
      changes: changes
        .filter((version) => version.changes[locale].length)
        .map((version) => ({ version: version.version, items: version.changes[locale] })),
      acceptances,
      isOwner: await this.dpa.isOwner(user, company),
      mayDownload: await this.#mayDownload(user, company),
    })
  }

  async accept({ request, response, auth, session, i18n }: HttpContext) {
    const user = auth.getUserOrFail()
    const company = await user.related('company').query().firstOrFail()
    // Only the owner: refused before the form is even read.
    if (!(await this.dpa.isOwner(user, company)))
      return response.forbidden(i18n.t('privacy.dpa.owner_only'))
    const data = await request.validateUsing(acceptValidator)
    try {
      await this.dpa.accept(company, user, {
        ip: request.ip(),
        locale: dpaLocale(i18n.locale),
        version: data.version,
      })
      session.flash('notice', i18n.t('privacy.dpa.accepted_notice', { version: data.version }))
    } catch (error) {
      if (!(error instanceof DpaAcceptanceError)) throw error
      if (error.reason === 'not_owner') return response.forbidden(i18n.t('privacy.dpa.owner_only'))
      session.flash('error', i18n.t(`privacy.dpa.error_${error.reason}`))
    }
    return response.redirect().toRoute('customer.dpa')
  }

  async download({ params, response, auth, i18n }: HttpContext) {
    const user = auth.getUserOrFail()
    const company = await user.related('company').query().firstOrFail()
    if (!(await this.#mayDownload(user, company)))
      return response.forbidden(i18n.t('ui.errors.forbidden'))
    const acceptance = await DpaAcceptance.query()
      .where('id', params.id)
      .where('company_id', company.id)
      .first()
    if (!acceptance) return response.notFound()
    const snapshot = openSnapshot(acceptance)
    const t = (key: string, values?: Record<string, unknown>) =>
      i18n.t(`privacy.dpa.pdf.${key}`, values)
    const when = acceptance.acceptedAt.setZone('Europe/Berlin').toFormat('yyyy-MM-dd HH:mm')
    const bytes = await renderDpaPdf(
      snapshot,
      {
        line: t('accepted_line', {
          version: acceptance.version,
          name: acceptance.acceptedByName,
          email: acceptance.acceptedByEmail,
          when,
          ip: acceptance.ip ?? '-',
        }),
        sha256: acceptance.snapshotHash,
      },
      {
        acceptedBy: t('accepted_by'),
        annexToms: t('annex_toms'),
        annexSubProcessors: t('annex_sub_processors'),
        annexSccs: t('annex_sccs'),
        noSccs: t('no_sccs'),
        changes: t('changes'),
        sha256: t('sha256'),
      }
    )
    response.header('content-type', 'application/pdf')
    response.header(
      'content-disposition',
      `attachment; filename="fluffycall-dpa-${acceptance.version}-${acceptance.acceptedAt.toISODate()}.pdf"`
    )
    return Buffer.from(bytes)
  }

  /** The owner and the company's admins keep the agreement for their records. */
  async #mayDownload(
    user: Parameters<DpaService['isOwner']>[0],
    company: Parameters<DpaService['isOwner']>[1]
  ) {
    return (
      (await this.dpa.isOwner(user, company)) || (await user.hasPermission('company.users.manage'))
    )
  }
}
