import type { JobQueue } from '#core/queue/types'
import AuditRetentionJob from '#accounts/jobs/audit_retention_job'
import ExpiredTokensJob from '#accounts/jobs/expired_tokens_job'
import WebSessionRetentionJob from '#accounts/jobs/web_session_retention_job'

const HOUR = 60 * 60 * 1000

export async function registerAccountJobs(queue: JobQueue) {
  await queue.schedule(new AuditRetentionJob(), {}, { everyMs: HOUR })
  await queue.schedule(new ExpiredTokensJob(), {}, { everyMs: 6 * HOUR })
  await queue.schedule(new WebSessionRetentionJob(), {}, { everyMs: 6 * HOUR })
}
