import app from '@adonisjs/core/services/app'
import type { JobQueue } from '#core/queue/types'
import MonthlyInvoiceRunJob from '#billing/jobs/monthly_invoice_run_job'

const HOUR = 60 * 60 * 1000

export async function registerBillingJobs(queue: JobQueue) {
  queue.register(new MonthlyInvoiceRunJob())
  // Not in tests: a run on the shared test database would bill every test company (tests start it)
  if (app.getEnvironment() === 'test') return
  await queue.schedule(new MonthlyInvoiceRunJob(), {}, { everyMs: HOUR })
}
