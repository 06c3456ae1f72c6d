import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { test } from '@japa/runner'
import type { Logger } from '@adonisjs/core/logger'
import type { Job } from '#core/queue/types'
import InProcessQueue from '#core/queue/in_process_queue'
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
