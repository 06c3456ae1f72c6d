import { inject } from '@adonisjs/core'
import { readFile } from 'node:fs/promises'
import type { HttpContext } from '@adonisjs/core/http'
import CounsellingLineService from '#billing/services/counselling_line_service'

/**
 * Staff with billing.manage: the counselling lines kept off itemised lists (TDDDG § 11(2)) and the
 * import of the Federal Network Agency's list as CSV.
 */
@inject()
export default class CounsellingLinesController {
  constructor(protected lines: CounsellingLineService) {}

  async index({ view, bouncer }: HttpContext) {
    await bouncer.with('BillingPolicy').authorize('manage')
    return view.render('pages/admin/billing/counselling_lines', {
      lines: await this.lines.list(),
      sources: await this.lines.summary(),
    })
  }

  async import(ctx: HttpContext) {
    const { bouncer, request, response, session, i18n, auth } = ctx
    await bouncer.with('BillingPolicy').authorize('manage')
    const file = request.file('file', { size: '5mb', extnames: ['csv', 'txt'] })
    const source = String(request.input('source') ?? '').trim()
    if (!file || !file.isValid || !file.tmpPath) {
      session.flashErrors({ file: i18n.t('billing.counselling.errors.file') })
      return response.redirect().toRoute('admin.billing.counselling_lines.index')
    }
    if (!source || source.length > 200 || /^[=+\-@\t\r]/.test(source)) {
      session.flashErrors({ source: i18n.t('billing.counselling.errors.source') })
      return response.redirect().toRoute('admin.billing.counselling_lines.index')
    }
    const result = await this.lines.importCsv(await readFile(file.tmpPath, 'utf8'), source, {
      actor: auth.getUserOrFail(),
      ip: request.ip(),
    })
    session.flash('counsellingReport', {
      replaced: result.replaced,
      read: result.read,
      accepted: result.lines.length,
      refused: result.problems.map((problem) =>
        i18n.t(`billing.counselling.errors.${problem.code}`, { line: problem.line })
      ),
    })
    if (result.replaced)
      session.flash(
        'notice',
        i18n.t('billing.counselling.imported', { count: result.lines.length })
      )
    return response.redirect().toRoute('admin.billing.counselling_lines.index')
  }
}
