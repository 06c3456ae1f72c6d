import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import testUtils from '@adonisjs/core/services/test_utils'
import MeteredJobQueue from '#core/metrics/job_metrics'
import InProcessQueue from '#core/queue/in_process_queue'
import DatabaseJobRunLog from '#core/monitoring/job_run_log'
import JobRun from '#core/monitoring/job_run'
import Monitoring from '#core/monitoring/monitoring'
import { JobQueueCheck, RetentionRunsCheck } from '#core/monitoring/checks/job_runs_check'
import alertRules from '#config/alert_rules'
import type { Job } from '#core/queue/types'

/**
 * Scheduled jobs' runs kept in job_runs (whichever node ran them), and the two rules that read
 * them on an injected clock: retention_job_missed (more than two intervals since the last
 * success) and job_queue_stuck (no scheduled job completed for 10 minutes).
 */

const silentLogger = { error() {} } as any

test.group('Job runs and the rules that read them', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('a scheduled retention job that stops succeeding raises retention_job_missed; a stuck queue raises job_queue_stuck', async ({
    assert,
  }) => {
    // Runs other tests left (jobs run outside a transaction, at real time) would count as the
    // queue's latest success on this fixed clock: this test sees only its own (rolled back).
    await JobRun.query().delete()
    const clock = { now: DateTime.fromISO('2026-03-02T10:00:00Z', { zone: 'utc' }) }
    const inner = new InProcessQueue(silentLogger)
    const queue = new MeteredJobQueue(inner, { runs: new DatabaseJobRunLog(() => clock.now) })
    let fail = false
    const retention: Job<{}> = {
      name: 'test.monitored_retention',
      async handle() {
        if (fail) throw new Error('disk full')
      },
    }
    // Scheduled (never started: the test runs it by hand, as the timer would)
    await queue.schedule(retention, {}, { everyMs: 6 * 3600 * 1000 })
    const row = await JobRun.findByOrFail('job', 'test.monitored_retention')
    assert.equal(row.intervalSeconds, 6 * 3600)
    assert.isNull(row.lastSuccessAt)

    const raised: string[] = []
    const cleared: string[] = []
    const monitoring = new Monitoring(
      alertRules.filter((rule) => ['retention_job_missed', 'job_queue_stuck'].includes(rule.name)),
      {
        raise: async (key) => {
          raised.push(key)
          return {} as any
        },
        clear: async (key) => {
          cleared.push(key)
          return true
        },
      },
      () => clock.now
    )
    monitoring.register(new RetentionRunsCheck())
    monitoring.register(new JobQueueCheck(async () => queue))

    await queue.dispatch(retention, {})
    await queue.drain()
    assert.isNotNull((await JobRun.findByOrFail('job', 'test.monitored_retention')).lastSuccessAt)
    await monitoring.run({ force: true })
    assert.deepEqual(raised, [])

    // It fails from now on: 12 hours are two intervals, just over them is a missed run
    fail = true
    clock.now = clock.now.plus({ hours: 6 })
    await queue.dispatch(retention, {})
    await queue.drain()
    const failed = await JobRun.findByOrFail('job', 'test.monitored_retention')
    assert.equal(failed.lastError, 'disk full')
    clock.now = clock.now.plus({ hours: 6 })
    await monitoring.run({ force: true })
    assert.notInclude(raised, 'ops_retention_job_missed:test.monitored_retention')
    clock.now = clock.now.plus({ minutes: 5 })
    await monitoring.run({ force: true })
    assert.include(raised, 'ops_retention_job_missed:test.monitored_retention')
    // No job at all completed for over 10 minutes either: the queue counts as stuck
    assert.include(raised, 'ops_job_queue_stuck')

    fail = false
    await queue.dispatch(retention, {})
    await queue.drain()
    cleared.length = 0
    await monitoring.run({ force: true })
    assert.deepEqual(cleared, ['ops_retention_job_missed:test.monitored_retention'])
    // The queue's rule holds its alert for 2 minutes of passing
    clock.now = clock.now.plus({ minutes: 2 })
    await monitoring.run({ force: true })
    assert.include(cleared, 'ops_job_queue_stuck')
  })
})
