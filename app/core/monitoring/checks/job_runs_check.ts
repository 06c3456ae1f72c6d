import { DateTime } from 'luxon'
import JobRun from '#core/monitoring/job_run'
import type { JobQueue } from '#core/queue/types'
import type { MonitorCheck } from '#core/monitoring/types'

/**
 * From `job_runs`: 'retention_runs', per retention job the intervals since it last completed
 * (counted from its first scheduling when it never did); 'job_queue', the seconds since any
 * scheduled job last completed, with the queue's counts as figures.
 */
export class RetentionRunsCheck implements MonitorCheck {
  readonly name = 'retention_runs'

  constructor(readonly intervalSeconds = 300) {}

  async read(now: Date) {
    const runs = await JobRun.query().where('job', 'like', '%retention%')
    const at = DateTime.fromJSDate(now)
    return runs.map((run) => {
      const intervals = run.intervalsSinceSuccess(at)
      return {
        subject: run.job,
        value: Math.round(intervals * 100) / 100,
        facts: {
          job: run.job,
          lastSuccess: run.lastSuccessAt?.toISO() ?? null,
          everyHours: Math.round((run.intervalSeconds / 3600) * 100) / 100,
        },
      }
    })
  }
}

export class JobQueueCheck implements MonitorCheck {
  readonly name = 'job_queue'

  constructor(
    private queue: () => Promise<JobQueue>,
    readonly intervalSeconds = 60
  ) {}

  async read(now: Date) {
    const counts = await (await this.queue()).counts()
    const latest = await JobRun.query()
      .whereNotNull('last_success_at')
      .orderBy('last_success_at', 'desc')
      .first()
    const first = await JobRun.query().orderBy('scheduled_at', 'asc').first()
    const since = latest?.lastSuccessAt ?? first?.scheduledAt
    if (!since) return [{ value: null, facts: { ...counts } }]
    return [
      {
        value: Math.round(DateTime.fromJSDate(now).diff(since).as('seconds')),
        facts: { ...counts, lastJob: latest?.job ?? null },
      },
    ]
  }
}
