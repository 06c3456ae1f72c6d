import type { HttpContext } from '@adonisjs/core/http'
import app from '@adonisjs/core/services/app'
import vine from '@vinejs/vine'
import { DateTime } from 'luxon'
import InvoiceRun from '#billing/models/invoice_run'
import Invoice from '#billing/models/invoice'
import MonthlyInvoiceRunJob from '#billing/jobs/monthly_invoice_run_job'
import InvoiceIssuer from '#billing/services/invoice_issuer'
import { previousMonth } from '#billing/services/invoice_run_service'
import { vatIdChecker } from '#billing/vat_id_checker_binding'
import { InvoiceCorrectionError } from '#billing/invoice_errors'
import AuditLog from '#accounts/services/audit_log'
import RecapitulativeStatement, {
  parseReportingPeriod,
} from '#billing/services/recapitulative_statement'

const runValidator = vine.compile(
  vine.object({ month: vine.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/) })
)

/** Staff with billing.manage: the monthly runs, their results, and corrections of an invoice. */
export default class InvoiceRunsController {
  async index({ view, bouncer }: HttpContext) {
    await bouncer.with('InvoicePolicy').authorize('manage')
    const runs = await InvoiceRun.query().orderBy('id', 'desc').limit(24)
    const invoices = await Invoice.query().orderBy('id', 'desc').limit(50)
    const last = previousMonth(DateTime.utc())
    return view.render('pages/admin/billing/invoice_runs', {
      runs,
      invoices,
      defaultMonth: `${last.year}-${String(last.month).padStart(2, '0')}`,
    })
  }

  async show({ params, view, bouncer, response }: HttpContext) {
    await bouncer.with('InvoicePolicy').authorize('manage')
    const run = await InvoiceRun.find(Number(params.id))
    if (!run) return response.notFound()
    return view.render('pages/admin/billing/invoice_run', { run })
  }

  /** Queued like the scheduled run; the page shows it when it has finished. */
  async store({ request, bouncer, auth, response, session, i18n }: HttpContext) {
    await bouncer.with('InvoicePolicy').authorize('manage')
    const { month } = await request.validateUsing(runValidator)
    const [year, number] = month.split('-').map(Number)
    const user = auth.getUserOrFail()
    const queue = await app.container.make('jobs.queue')
    await queue.dispatch(new MonthlyInvoiceRunJob(), { year, month: number, startedById: user.id })
    await AuditLog.record({
      action: 'billing.invoice_run.started',
      actor: user,
      ip: request.ip(),
      details: { month },
    })
    session.flash('notice', i18n.t('billing.invoices.run_started'))
    return response.redirect().toRoute('admin.billing.invoice_runs.index')
  }

  /** Stornorechnung and, from today's data, the Rechnungskorrektur of the month. */
  async correct({ params, bouncer, auth, request, response, session, i18n }: HttpContext) {
    await bouncer.with('InvoicePolicy').authorize('manage')
    const invoice = await Invoice.find(Number(params.id))
    if (!invoice) return response.notFound()
    try {
      const { cancellation, correction } = await new InvoiceIssuer(await vatIdChecker()).correct(
        invoice
      )
      await AuditLog.record({
        action: 'billing.invoice.corrected',
        actor: auth.getUserOrFail(),
        ip: request.ip(),
        details: {
          invoice: invoice.number,
          cancellation: cancellation.number,
          correction: correction?.number ?? null,
        },
      })
      session.flash('notice', i18n.t('billing.invoices.corrected', { number: cancellation.number }))
    } catch (error) {
      if (!(error instanceof InvoiceCorrectionError)) throw error
      session.flash('error', i18n.t(`billing.invoices.correction_errors.${error.reason}`))
    }
    return response.redirect().toRoute('admin.billing.invoice_runs.index')
  }

  /** Zusammenfassende Meldung (§ 18a UStG) of a month or quarter as CSV for the BZSt portal. */
  async recapitulativeStatement({ request, bouncer, auth, response }: HttpContext) {
    await bouncer.with('InvoicePolicy').authorize('manage')
    const value = String(request.input('period', ''))
    const period = parseReportingPeriod(value)
    if (!period) return response.badRequest('period must be YYYY-MM or YYYY-Qn')
    const statement = new RecapitulativeStatement()
    const csv = statement.csv(await statement.rows(period))
    await AuditLog.record({
      action: 'billing.recapitulative_statement.exported',
      actor: auth.getUserOrFail(),
      ip: request.ip(),
      details: { period: value },
    })
    response.header('content-type', 'text/csv; charset=utf-8')
    response.header('content-disposition', `attachment; filename="zm-${value}.csv"`)
    return response.send(csv)
  }
}
