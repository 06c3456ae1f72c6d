import type { FraudConfig } from '#config/fraud'
import type { JobQueue } from '#core/queue/types'
import AnalyseCallJob from '#fraud/jobs/analyse_call_job'
import AuthFailureScanJob from '#fraud/jobs/auth_failure_scan_job'
import FraudRetentionJob from '#fraud/jobs/fraud_retention_job'

const HOUR = 60 * 60 * 1000

export async function registerFraudJobs(queue: JobQueue, config: FraudConfig) {
  // Any node's worker may take an analysis another node dispatched (BullMQ)
  queue.register(new AnalyseCallJob())
  await queue.schedule(
    new AuthFailureScanJob(),
    {},
    { everyMs: config.detection.authScanIntervalSeconds * 1000 }
  )
  await queue.schedule(new FraudRetentionJob(), {}, { everyMs: 6 * HOUR })
}
