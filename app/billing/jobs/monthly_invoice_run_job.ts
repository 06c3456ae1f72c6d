import { DateTime } from 'luxon'
import InvoiceRun from '#billing/models/invoice_run'
import InvoiceRunService, { previousMonth } from '#billing/services/invoice_run_service'
import { vatIdChecker } from '#billing/vat_id_checker_binding'
import invoicingConfig from '#config/invoicing'
import { FEE_TIME_ZONE } from '#billing/monthly_fees'
import type { Job } from '#core/queue/types'

export interface InvoiceRunPayload {
  year?: number
  month?: number
  startedById?: number | null
  /** ISO time the scheduler checks against (tests); now otherwise. */
  now?: string
}

/**
 * Scheduled hourly: from runHour (Europe/Berlin) on the first of a month, runs the previous month
 * once (a finished run for it is enough). Staff dispatch it with an explicit month.
 */
export default class MonthlyInvoiceRunJob implements Job<InvoiceRunPayload> {
  readonly name = 'billing.monthly_invoice_run'

  async handle(payload: InvoiceRunPayload) {
    const now = payload.now ? DateTime.fromISO(payload.now) : DateTime.utc()
    const service = new InvoiceRunService(await vatIdChecker())
    if (payload.year && payload.month) {
      await service.run(
        { year: payload.year, month: payload.month },
        { startedById: payload.startedById ?? null, now }
      )
      return
    }
    const local = now.setZone(FEE_TIME_ZONE)
    if (local.day === 1 && local.hour < invoicingConfig.runHour) return
    const month = previousMonth(now)
    const done = await InvoiceRun.query()
      .where('period_year', month.year)
      .where('period_month', month.month)
      .where('status', 'finished')
      .whereNull('started_by_id')
      .first()
    if (done) return
    await service.run(month, { now })
  }
}
