import { randomUUID } from 'node:crypto'
import { setImmediate as setImmediatePromise, setTimeout as sleep } from 'node:timers/promises'
import { test } from '@japa/runner'
import type { Logger } from '@adonisjs/core/logger'
import type { Job } from '#core/queue/types'
import InProcessQueue, { type QueueTimer } from '#core/queue/in_process_queue'
import BullMqQueue from '#core/queue/bullmq_queue'
import {
  connectRedis,
  deleteKeys,
  redisConfigured,
  redisConnectionOptions,
} from '#tests/support/redis'

/** A logger that records what the queue logs as errors. */
function recordingLogger() {
  const errors: Array<{ context: any; message: string }> = []
  const logger = {
    error: (context: any, message: string) => errors.push({ context, message }),
    warn: () => {},
    info: () => {},
    debug: () => {},
    trace: () => {},
    fatal: () => {},
  } as unknown as Logger
  return { logger, errors }
}

/** A job that records its payloads after a short delay, so a test can tell whether drain waited. */
class RecordingJob implements Job<{ n: number }> {
  readonly name = `test.recording.${randomUUID()}`
  seen: number[] = []
  async handle(payload: { n: number }) {
    await sleep(30)
    this.seen.push(payload.n)
  }
}

/** A job that records its payloads at once. */
class InstantJob implements Job<{ n: number }> {
  readonly name = `test.instant.${randomUUID()}`
  seen: number[] = []
  async handle(payload: { n: number }) {
    this.seen.push(payload.n)
  }
}

/** Timers that fire when the test says so. */
class ManualTimer implements QueueTimer {
  pending = new Map<number, { callback: () => void; delayMs: number }>()
  #next = 0
  set(callback: () => void, delayMs: number) {
    this.pending.set(++this.#next, { callback, delayMs })
    return this.#next
  }
  clear(handle: unknown) {
    this.pending.delete(handle as number)
  }
  /** Fires the timer set with this delay. */
  fire(delayMs: number) {
    const [id, timer] = [...this.pending].find(([, entry]) => entry.delayMs === delayMs)!
    this.pending.delete(id)
    timer.callback()
  }
}

/** A started in-process queue on manual timers, and a job to dispatch. */
async function delayingQueue() {
  const timer = new ManualTimer()
  const queue = new InProcessQueue(recordingLogger().logger, timer)
  await queue.start()
  return { timer, queue, job: new InstantJob() }
}

class FailingJob implements Job<{}> {
  readonly name = `test.failing.${randomUUID()}`
  attempts = 0
  async handle() {
    this.attempts += 1
    throw new Error('boom from a test job')
  }
}

test.group('InProcessQueue', () => {
  test('runs dispatched jobs with their payload; drain waits for them', async ({ assert }) => {
    const { logger, errors } = recordingLogger()
    const queue = new InProcessQueue(logger)
    await queue.start()
    const job = new RecordingJob()

    await queue.dispatch(job, { n: 1 })
    await queue.dispatch(job, { n: 2 })
    assert.deepEqual(job.seen, [], 'dispatch does not wait for the job')
    await queue.drain()
    assert.sameMembers(job.seen, [1, 2])
    assert.lengthOf(errors, 0)
    await queue.close()
  })

  test('a failing job is logged, not thrown', async ({ assert }) => {
    const { logger, errors } = recordingLogger()
    const queue = new InProcessQueue(logger)
    await queue.start()
    const failing = new FailingJob()
    const fine = new RecordingJob()

    await queue.dispatch(failing, {})
    await queue.dispatch(fine, { n: 7 })
    await queue.drain()

    assert.equal(failing.attempts, 1)
    assert.deepEqual(fine.seen, [7], 'other jobs still run')
    assert.lengthOf(errors, 1)
    assert.equal(errors[0].context.job, failing.name)
    assert.match(errors[0].context.err.message, /boom/)
    await queue.close()
  })

  test('scheduled jobs run repeatedly once started, and stop on close', async ({ assert }) => {
    const { logger } = recordingLogger()
    const queue = new InProcessQueue(logger)
    const job = new RecordingJob()
    await queue.schedule(job, { n: 1 }, { everyMs: 20 })
    await sleep(80)
    assert.lengthOf(job.seen, 0, 'schedules wait for start()')
    await queue.start()
    await sleep(150)
    await queue.close()
    const runs = job.seen.length
    assert.isAtLeast(runs, 2)
    await sleep(80)
    assert.equal(job.seen.length, runs, 'no runs after close')
  })

  test('a delayed job waits for its time; one job per key; another key queues its own', async ({
    assert,
  }) => {
    const { timer, queue, job } = await delayingQueue()
    await queue.dispatch(job, { n: 1 }, { key: 'window:1', delayMs: 5000 })
    await queue.dispatch(job, { n: 2 }, { key: 'window:1', delayMs: 4000 })
    await queue.dispatch(job, { n: 3 }, { key: 'window:2', delayMs: 9000 })
    assert.deepEqual(
      [...timer.pending.values()].map((entry) => entry.delayMs),
      [5000, 9000]
    )
    assert.deepEqual(await queue.counts(), { waiting: 0, active: 0, delayed: 2 })
    await setImmediatePromise()
    assert.deepEqual(job.seen, [], 'nothing runs before its time')

    timer.fire(5000)
    await setImmediatePromise()
    assert.deepEqual(job.seen, [1])
    assert.equal((await queue.counts()).delayed, 1)
    await queue.dispatch(job, { n: 4 }, { key: 'window:1', delayMs: 1000 })
    assert.equal(timer.pending.size, 1, 'its key stays taken after it ran in its time')
    timer.fire(9000)
    await queue.drain()
    assert.deepEqual(job.seen, [1, 3])
    await queue.close()
  })

  test('drain runs delayed jobs at once and frees their keys; close runs what is left', async ({
    assert,
  }) => {
    const { timer, queue, job } = await delayingQueue()
    await queue.dispatch(job, { n: 1 }, { key: 'window:1', delayMs: 60_000 })
    // the timer never fires by itself: drain returns because it ran the job
    await queue.drain()
    assert.deepEqual(job.seen, [1])
    assert.equal(timer.pending.size, 0)
    assert.equal((await queue.counts()).delayed, 0)

    // it ran before its window ended: a later dispatch under its key queues again
    await queue.dispatch(job, { n: 2 }, { key: 'window:1', delayMs: 60_000 })
    assert.equal((await queue.counts()).delayed, 1)
    await queue.close()
    assert.deepEqual(job.seen, [1, 2])
  })

  test('reports the in-process driver', ({ assert }) => {
    assert.equal(new InProcessQueue(recordingLogger().logger).driver, 'in_process')
  })
})

// BullMQ on Redis: only when REDIS_HOST is set. Each run uses its own queue name and key prefix.
if (redisConfigured) {
  test.group('BullMqQueue (Redis)', (group) => {
    const prefix = `fluffycall-test-${randomUUID()}`
    group.setup(async () => {
      const redis = await connectRedis()
      return async () => {
        await deleteKeys(redis, `${prefix}:`)
        await redis.quit()
      }
    })

    function makeQueue(logger: Logger, maxTrackedJobs?: number) {
      return new BullMqQueue(
        { ...redisConnectionOptions(), maxRetriesPerRequest: null },
        logger,
        `test-${randomUUID()}`,
        prefix,
        maxTrackedJobs
      )
    }

    test('runs dispatched jobs through Redis; drain waits for them', async ({ assert }) => {
      const { logger, errors } = recordingLogger()
      const queue = makeQueue(logger)
      try {
        await queue.start()
        const job = new RecordingJob()
        await queue.dispatch(job, { n: 1 })
        await queue.dispatch(job, { n: 2 })
        await queue.drain()
        assert.sameMembers(job.seen, [1, 2])
        assert.lengthOf(errors, 0)
        assert.equal(queue.driver, 'bullmq')
      } finally {
        await queue.close()
      }
    }).timeout(20_000)

    test('the ids drain() waits for are bounded: the oldest go first', async ({ assert }) => {
      const { logger, errors } = recordingLogger()
      const queue = makeQueue(logger, 3)
      try {
        const job = new RecordingJob()
        for (let n = 1; n <= 5; n++) await queue.dispatch(job, { n })
        assert.equal(queue.trackedJobs, 3)
        await queue.start()
        await queue.drain()
        // The newest three were waited for; the queue runs its jobs in order, so all five ran
        assert.includeMembers(job.seen, [3, 4, 5])
        assert.equal(queue.trackedJobs, 0)
        assert.lengthOf(errors, 0)
      } finally {
        await queue.close()
      }
    }).timeout(20_000)

    test('a delayed job waits in Redis, one per key; drain promotes it', async ({ assert }) => {
      const { logger, errors } = recordingLogger()
      const queue = makeQueue(logger)
      try {
        await queue.start()
        const job = new InstantJob()
        await queue.dispatch(job, { n: 1 }, { key: 'window:1', delayMs: 60_000 })
        await queue.dispatch(job, { n: 2 }, { key: 'window:1', delayMs: 60_000 })
        await queue.dispatch(job, { n: 3 }, { key: 'window:2', delayMs: 60_000 })
        assert.deepEqual(await queue.counts(), { waiting: 0, active: 0, delayed: 2 })
        // a minute's delay: the test's timeout fails it unless drain promotes the jobs
        await queue.drain()
        assert.sameMembers(job.seen, [1, 3])
        assert.equal((await queue.counts()).delayed, 0)

        // they ran before their windows ended: a later dispatch under a key queues again
        await queue.dispatch(job, { n: 4 }, { key: 'window:1', delayMs: 60_000 })
        assert.equal((await queue.counts()).delayed, 1)
        await queue.drain()
        assert.sameMembers(job.seen, [1, 3, 4])
        assert.lengthOf(errors, 0)
      } finally {
        await queue.close()
      }
    }).timeout(20_000)

    test('a failing job is retried and logged, drain does not throw', async ({ assert }) => {
      const { logger, errors } = recordingLogger()
      const queue = makeQueue(logger)
      try {
        await queue.start()
        const failing = new FailingJob()
        await queue.dispatch(failing, {})
        await queue.drain()
        assert.equal(failing.attempts, 3, 'three attempts with back-off')
        assert.isAtLeast(errors.length, 1)
        assert.equal(errors[0].context.job, failing.name)
      } finally {
        await queue.close()
      }
    }).timeout(30_000)
  })
}
