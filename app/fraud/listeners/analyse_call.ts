import app from '@adonisjs/core/services/app'
import type CallRecord from '#calls/models/call_record'
import fraudConfig from '#config/fraud'
import AnalyseCallJob from '#fraud/jobs/analyse_call_job'

/**
 * How long after the start of its window a call may have ended and still be in that window's
 * analysis: the CDR's write before call:ended, stored times rounded to the second.
 */
export const ENDED_MARGIN_MS = 5_000
/** CDR times are stored to the second (PostgreSQL rounds, SQLite cuts). */
const STORED_PRECISION_MS = 1_000

/**
 * call:ended: the anomaly detection runs as a background job, off the call path, at most once per
 * company and window of `analysisBatchSeconds` (issue 17: a job per call cost ~6 % of the
 * server's CPU, and three Redis round trips per call with BullMQ). Every call ending in a window
 * dispatches under the window's key, delayed to the window's end: the first queues the job
 * (in Redis with BullMQ, so a node that dies loses no window), the rest and a repeated call:ended
 * queue nothing. The job analyses each call that ended since a margin before the window's start.
 * A call:ended announced after that margin is analysed on its own, at once.
 */
export default class AnalyseCall {
  constructor(
    private clock: () => number = Date.now,
    private batchSeconds = fraudConfig.detection.analysisBatchSeconds
  ) {}

  async handle({ record }: { record: CallRecord }) {
    if (record.emergency || record.companyId === null || record.direction === 'echo_test') return
    const queue = await app.container.make('jobs.queue')
    const job = new AnalyseCallJob()
    const now = this.clock()
    const windowMs = this.batchSeconds * 1000
    const window = windowMs > 0 ? Math.floor(now / windowMs) : 0
    const endedSince = window * windowMs - ENDED_MARGIN_MS
    const endedAt = record.endedAt?.toMillis() ?? now
    if (windowMs <= 0 || endedAt - STORED_PRECISION_MS < endedSince) {
      await queue.dispatch(
        job,
        { companyId: record.companyId, callId: record.id },
        { key: `fraud.analyse_call:${record.uuid}` }
      )
      return
    }
    await queue.dispatch(
      job,
      { companyId: record.companyId, endedSince },
      { key: `fraud.analyse:${record.companyId}:${window}`, delayMs: (window + 1) * windowMs - now }
    )
  }
}
