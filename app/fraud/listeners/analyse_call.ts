import app from '@adonisjs/core/services/app'
import type CallRecord from '#calls/models/call_record'
import AnalyseCallJob from '#fraud/jobs/analyse_call_job'

/**
 * call:ended: the anomaly detection runs as a background job, off the call path. Once per CDR: a
 * repeated call:ended (a retry, a second node) dispatches under the same key and queues nothing.
 */
export default class AnalyseCall {
  async handle({ record }: { record: CallRecord }) {
    if (record.emergency || record.companyId === null || record.direction === 'echo_test') return
    const queue = await app.container.make('jobs.queue')
    await queue.dispatch(
      new AnalyseCallJob(),
      { companyId: record.companyId, callId: record.id },
      { key: `fraud.analyse_call:${record.uuid}` }
    )
  }
}
