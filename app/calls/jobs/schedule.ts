import type { JobQueue } from '#core/queue/types'
import { registerCarrierJobs } from '#calls/jobs/carrier_jobs'
import CallDataRetentionJob from '#calls/jobs/call_data_retention_job'

const HOUR = 60 * 60 * 1000

/** Every background job of the calls module. */
export async function registerCallJobs(queue: JobQueue) {
  await registerCarrierJobs(queue)
  await queue.schedule(new CallDataRetentionJob(), {}, { everyMs: 6 * HOUR })
}
