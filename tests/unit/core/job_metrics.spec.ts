import { test } from '@japa/runner'
import metrics from '#core/services/metrics'
import MeteredJobQueue, { retentionDeleted } from '#core/metrics/job_metrics'
import InProcessQueue from '#core/queue/in_process_queue'
import type { Job } from '#core/queue/types'

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
