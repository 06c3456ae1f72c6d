import type { JobQueue } from '#core/queue/types'
import InformationRequestRetentionJob from '#privacy/jobs/information_request_retention_job'

const HOUR = 60 * 60 * 1000

export async function registerPrivacyJobs(queue: JobQueue) {
  await queue.schedule(new InformationRequestRetentionJob(), {}, { everyMs: 6 * HOUR })
}
