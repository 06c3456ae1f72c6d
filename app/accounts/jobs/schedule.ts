import type { JobQueue } from '#core/queue/types'
import AuditRetentionJob from '#accounts/jobs/audit_retention_job'
import ExpiredTokensJob from '#accounts/jobs/expired_tokens_job'
import CompanyStatusMailJob from '#accounts/jobs/company_status_mail_job'

const HOUR = 60 * 60 * 1000

/** The mail job is registered up front so every node's worker knows it. */
export async function registerAccountJobs(queue: JobQueue) {
  queue.register(new CompanyStatusMailJob())
  await queue.schedule(new AuditRetentionJob(), {}, { everyMs: HOUR })
  await queue.schedule(new ExpiredTokensJob(), {}, { everyMs: 6 * HOUR })
}
