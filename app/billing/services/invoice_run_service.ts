import { DateTime } from 'luxon'
import logger from '@adonisjs/core/services/logger'
import { sqlTime } from '#core/sql_time'
import Company from '#accounts/models/company'
import InvoiceRun, { type InvoiceRunResult } from '#billing/models/invoice_run'
import InvoiceIssuer from '#billing/services/invoice_issuer'
import { monthBounds, FEE_TIME_ZONE, type BillingMonth } from '#billing/monthly_fees'
import type { VatIdChecker } from '#billing/vat_id_checker'

/** The month before `now` in Europe/Berlin: what the run on the first of a month bills. */
export function previousMonth(now: DateTime): BillingMonth {
  const previous = now.setZone(FEE_TIME_ZONE).startOf('month').minus({ months: 1 })
  return { year: previous.year, month: previous.month }
}

/**
 * The monthly run: every company approved before the month ended and not terminated before it
 * began gets its invoice (or a recorded reason why not). Companies are independent: one failing
 * company is recorded and the run goes on. Safe to start twice (InvoiceIssuer's run_key).
 */
export default class InvoiceRunService {
  constructor(private vatIds: VatIdChecker) {}

  async run(month: BillingMonth, options: { startedById?: number | null; now?: DateTime } = {}) {
    const now = options.now ?? DateTime.utc()
    const run = await InvoiceRun.create({
      periodYear: month.year,
      periodMonth: month.month,
      startedById: options.startedById ?? null,
      status: 'running',
      issuedCount: 0,
      skippedCount: 0,
      failedCount: 0,
      results: [],
      startedAt: now,
    })
    const { start, end } = monthBounds(month)
    const companies = await Company.query()
      .whereNotNull('approved_at')
      .where('approved_at', '<', sqlTime(end))
      .where((query) =>
        query.whereNull('terminated_at').orWhere('terminated_at', '>=', sqlTime(start))
      )
      .orderBy('id')
    const issuer = new InvoiceIssuer(this.vatIds)
    const results: InvoiceRunResult[] = []
    for (const company of companies) {
      try {
        const outcome = await issuer.issueMonthly(company, month, { runId: run.id, now })
        results.push(
          outcome.outcome === 'issued'
            ? {
                companyId: company.id,
                company: company.displayName,
                outcome: 'issued',
                detail: outcome.invoice.number,
              }
            : {
                companyId: company.id,
                company: company.displayName,
                outcome: 'skipped',
                detail: outcome.reason,
              }
        )
      } catch (error) {
        logger.error({ err: error, company: company.id }, 'billing: issuing an invoice failed')
        results.push({
          companyId: company.id,
          company: company.displayName,
          outcome: 'failed',
          detail: (error as Error).message.slice(0, 300),
        })
      }
    }
    run.merge({
      status: 'finished',
      results,
      issuedCount: results.filter((result) => result.outcome === 'issued').length,
      skippedCount: results.filter((result) => result.outcome === 'skipped').length,
      failedCount: results.filter((result) => result.outcome === 'failed').length,
      finishedAt: DateTime.utc(),
    })
    await run.save()
    return run
  }
}
