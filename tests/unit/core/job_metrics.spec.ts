import { test } from '@japa/runner'
import metrics from '#core/services/metrics'
import MeteredJobQueue, { retentionDeleted } from '#core/metrics/job_metrics'
import InProcessQueue from '#core/queue/in_process_queue'
import type { Job } from '#core/queue/types'
import type { JobRunLog } from '#core/monitoring/job_run_log'

const silentLogger = { error() {} } as any

async function value(name: string, labels: Record<string, string>) {
  const metric = await metrics.getSingleMetric(name)!.get()
  const sample = metric.values.find((entry) =>
    Object.entries(labels).every(([key, wanted]) => entry.labels[key] === wanted)
  )
  return sample?.value ?? 0
}

test.group('Job metrics', () => {
  test('runs, failures, retention runs, rows deleted and queue depth', async ({ assert }) => {
    const queue = new MeteredJobQueue(new InProcessQueue(silentLogger), {
      now: () => 1_700_000_000_000,
    })
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => (release = resolve))
    const retention: Job<{}> = {
      name: 'test.metrics_retention',
      async handle() {
        await gate
        retentionDeleted('test_rows', 3)
        retentionDeleted('test_rows', 0)
      },
    }
    const failing: Job<{}> = {
      name: 'test.metrics_failing',
      async handle() {
        throw new Error('boom')
      },
    }
    const runsBefore = await value('fluffycall_jobs_total', {
      job: retention.name,
      outcome: 'completed',
    })

    await queue.dispatch(retention, {})
    assert.equal(
      await value('fluffycall_job_queue_jobs', { state: 'active' }),
      1,
      'the running job is counted'
    )
    release()
    await queue.dispatch(failing, {})
    await queue.drain()

    assert.equal(await value('fluffycall_job_queue_jobs', { state: 'active' }), 0)
    assert.equal(
      await value('fluffycall_jobs_total', { job: retention.name, outcome: 'completed' }),
      runsBefore + 1
    )
    assert.equal(await value('fluffycall_jobs_total', { job: failing.name, outcome: 'failed' }), 1)
    assert.equal(
      await value('fluffycall_retention_runs_total', { job: retention.name, outcome: 'completed' }),
      1
    )
    assert.equal(
      await value('fluffycall_retention_runs_total', { job: failing.name, outcome: 'failed' }),
      0,
      'not a retention job'
    )
    assert.equal(
      await value('fluffycall_retention_last_success_timestamp_seconds', { job: retention.name }),
      1_700_000_000
    )
    assert.equal(await value('fluffycall_retention_rows_deleted_total', { table: 'test_rows' }), 3)
    await queue.close()
  })
})

test.group('Scheduled jobs caught up at start', () => {
  /** A run log in memory: the last successes given, the ones the queue reports kept. */
  function runLog(lastSuccess: Record<string, Date | null | undefined>) {
    const succeeded: string[] = []
    const log: JobRunLog = {
      async scheduled() {},
      async succeeded(job) {
        succeeded.push(job)
        lastSuccess[job] = new Date(NOW)
      },
      async failed() {},
      async lastSuccess(job) {
        return lastSuccess[job]
      },
    }
    return { log, succeeded }
  }
  const NOW = 1_700_000_000_000
  const HOUR = 3_600_000

  function recording(name: string, ran: string[]): Job<{}> {
    return {
      name,
      async handle() {
        ran.push(name)
      },
    }
  }

  test('jobs that never ran or are overdue run once; recent and unreadable ones wait', async ({
    assert,
  }) => {
    const ran: string[] = []
    const { log, succeeded } = runLog({
      'test.never': null,
      'test.overdue': new Date(NOW - 7 * HOUR),
      'test.recent': new Date(NOW - 5 * HOUR),
      'test.unreadable': undefined,
    })
    const queue = new MeteredJobQueue(new InProcessQueue(silentLogger), {
      now: () => NOW,
      runs: log,
      catchUp: true,
    })
    for (const name of ['test.never', 'test.overdue', 'test.recent', 'test.unreadable'])
      await queue.schedule(recording(name, ran), {}, { everyMs: 6 * HOUR })
    assert.deepEqual(ran, [], 'nothing runs before the start')

    await queue.start()
    await queue.drain()
    assert.deepEqual(ran.sort(), ['test.never', 'test.overdue'])
    assert.deepEqual(succeeded.sort(), ['test.never', 'test.overdue'], 'the runs are logged')
    await queue.close()
  })

  test('two nodes starting in the same interval window catch a job up once', async ({ assert }) => {
    const ran: string[] = []
    const inner = new InProcessQueue(silentLogger)
    const lastSuccess = { 'test.shared': null }
    // Both nodes read "never ran" before either finished: the window key holds them to one run
    for (const offset of [0, 60_000]) {
      const queue = new MeteredJobQueue(inner, {
        now: () => NOW + offset,
        runs: runLog({ ...lastSuccess }).log,
        catchUp: true,
      })
      await queue.schedule(recording('test.shared', ran), {}, { everyMs: 6 * HOUR })
      await queue.start()
    }
    await inner.drain()
    assert.deepEqual(ran, ['test.shared'])
    await inner.close()
  })

  test('a catch-up that cannot read or dispatch is reported, and the start does not wait for it', async ({
    assert,
  }) => {
    const errors: unknown[] = []
    let answer: () => void = () => {}
    const slow = new Promise<void>((resolve) => (answer = resolve))
    const log: JobRunLog = {
      async scheduled() {},
      async succeeded() {},
      async failed() {},
      async lastSuccess() {
        await slow
        throw new Error('database away')
      },
    }
    const queue = new MeteredJobQueue(new InProcessQueue(silentLogger), {
      now: () => NOW,
      runs: log,
      catchUp: true,
      onCatchUpError: (error) => errors.push(error),
    })
    await queue.schedule(recording('test.stuck', []), {}, { everyMs: HOUR })
    await queue.start()
    assert.lengthOf(errors, 0, 'started while the catch-up still waits')
    answer()
    await queue.drain()
    assert.deepEqual(
      errors.map((error) => (error as Error).message),
      ['database away']
    )
    await queue.close()
  })

  test('without catch-up (the tests’ default) nothing runs at start', async ({ assert }) => {
    const ran: string[] = []
    const queue = new MeteredJobQueue(new InProcessQueue(silentLogger), {
      now: () => NOW,
      runs: runLog({ 'test.off': null }).log,
    })
    await queue.schedule(recording('test.off', ran), {}, { everyMs: HOUR })
    await queue.start()
    await queue.drain()
    assert.deepEqual(ran, [])
    await queue.close()
  })
})
