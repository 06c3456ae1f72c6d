import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { test } from '@japa/runner'
import type { Redis } from 'ioredis'
import type { CounterStore } from '#core/counters/types'
import MemoryCounterStore from '#core/counters/memory_counter_store'
import RedisCounterStore from '#core/counters/redis_counter_store'
import { connectRedis, deleteKeys, redisConfigured } from '#tests/support/redis'

interface ContractDriver {
  /** A fresh, empty store. */
  make(): Promise<CounterStore>
  /** Lets `ms` milliseconds of the store's time pass. */
  advance(ms: number): Promise<void>
}

/** The behaviour every CounterStore must have; run once per implementation. */
function counterContract(name: string, driver: () => ContractDriver, setup?: (group: any) => void) {
  test.group(`CounterStore contract: ${name}`, (group) => {
    setup?.(group)

    test('an unknown key counts 0', async ({ assert }) => {
      const store = await driver().make()
      assert.equal(await store.get('nobody'), 0)
    })

    test('increment returns the new value; get reads it', async ({ assert }) => {
      const store = await driver().make()
      assert.equal(await store.increment('calls:42', 60), 1)
      assert.equal(await store.increment('calls:42', 60), 2)
      assert.equal(await store.increment('calls:42', 60, 5), 7)
      assert.equal(await store.get('calls:42'), 7)
    })

    test('keys count independently', async ({ assert }) => {
      const store = await driver().make()
      await store.increment('a', 60)
      await store.increment('a', 60)
      await store.increment('b', 60)
      assert.equal(await store.get('a'), 2)
      assert.equal(await store.get('b'), 1)
    })

    test('getMany reads several keys in their order, unknown ones as 0', async ({ assert }) => {
      const store = await driver().make()
      await store.increment('a', 60, 3)
      await store.increment('c', 60, 5)
      assert.deepEqual(await store.getMany(['c', 'nobody', 'a', 'c']), [5, 0, 3, 5])
      assert.deepEqual(await store.getMany([]), [])
    })

    test('reset sets a key back to 0 and leaves others', async ({ assert }) => {
      const store = await driver().make()
      await store.increment('a', 60, 3)
      await store.increment('b', 60, 4)
      await store.reset('a')
      assert.equal(await store.get('a'), 0)
      assert.equal(await store.get('b'), 4)
      assert.equal(await store.increment('a', 60), 1)
    })

    test('concurrent increments are not lost', async ({ assert }) => {
      const store = await driver().make()
      const results = await Promise.all(
        Array.from({ length: 25 }, () => store.increment('busy', 60))
      )
      assert.equal(await store.get('busy'), 25)
      assert.sameMembers(
        results,
        Array.from({ length: 25 }, (_, index) => index + 1)
      )
    })

    test('take: checks read, leases and counts added in one step', async ({ assert }) => {
      const store = await driver().make()
      await store.increment('spent', 60, 40)
      const taken = await store.take({
        checks: [
          { key: 'spent', below: 50 },
          { key: 'rate', below: 3 },
        ],
        leases: [{ key: 'lease', limit: 2, windowSeconds: 60 }],
        counts: [
          { key: 'rate', windowSeconds: 60 },
          { key: 'other', windowSeconds: 60, by: 5 },
        ],
      })
      assert.deepEqual(taken, { taken: true, values: [40, 0] })
      assert.equal(await store.get('lease'), 1)
      assert.equal(await store.get('rate'), 1)
      assert.equal(await store.get('other'), 5)
      assert.equal(await store.get('spent'), 40)
    })

    test('take: a refusal (check or full lease) takes nothing', async ({ assert }) => {
      const store = await driver().make()
      await store.increment('rate', 60, 3)
      await store.increment('full', 60, 2)
      const request = (below: number) => ({
        checks: [{ key: 'rate', below }],
        leases: [
          { key: 'free', limit: 5, windowSeconds: 60 },
          { key: 'full', limit: 2, windowSeconds: 60 },
        ],
        counts: [{ key: 'rate', windowSeconds: 60 }],
      })
      assert.deepEqual(await store.take(request(3)), {
        taken: false,
        refused: { check: 0 },
        values: [3],
      })
      assert.deepEqual(await store.take(request(4)), {
        taken: false,
        refused: { lease: 1 },
        values: [3],
      })
      assert.equal(await store.get('free'), 0)
      assert.equal(await store.get('full'), 2)
      assert.equal(await store.get('rate'), 3)
      // Unlimited checks and leases (Infinity) pass.
      const open = await store.take({
        checks: [{ key: 'rate', below: Infinity }],
        leases: [{ key: 'full', limit: Infinity, windowSeconds: 60 }],
      })
      assert.deepEqual(open, { taken: true, values: [3] })
      assert.equal(await store.get('full'), 3)
    })

    test('take: 20 at once on a lease of 12 take exactly 12', async ({ assert }) => {
      const store = await driver().make()
      const results = await Promise.all(
        Array.from({ length: 20 }, () =>
          store.take({
            checks: [{ key: 'per-minute', below: 100 }],
            leases: [{ key: 'lease', limit: 12, windowSeconds: 60 }],
            counts: [{ key: 'per-minute', windowSeconds: 60 }],
          })
        )
      )
      assert.equal(results.filter((result) => result.taken).length, 12)
      assert.equal(await store.get('lease'), 12)
      assert.equal(await store.get('per-minute'), 12)
    })

    test('the count ends with its window and starts again at 1', async ({ assert }) => {
      const { make, advance } = driver()
      const store = await make()
      await store.increment('window', 1)
      await store.increment('window', 1)
      assert.equal(await store.get('window'), 2)
      await advance(700)
      await store.increment('window', 1)
      assert.equal(await store.get('window'), 3)
      // 1.3 s after the first increment: the window (1 s from the first) is over; an increment
      // inside it must not have extended it to 1.7 s.
      await advance(600)
      assert.equal(await store.get('window'), 0)
      assert.deepEqual(await store.getMany(['window']), [0])
      assert.equal(await store.increment('window', 1), 1)
    }).timeout(10_000)
  })
}

// In memory, with an injected clock: the window is exact and the test does not wait.
let clock = 1_700_000_000_000
counterContract('memory', () => ({
  make: async () => new MemoryCounterStore(() => clock),
  advance: async (ms) => {
    clock += ms
  },
}))

test.group('MemoryCounterStore', () => {
  test('expires exactly at the end of the window (injected clock)', async ({ assert }) => {
    let now = 0
    const store = new MemoryCounterStore(() => now)
    await store.increment('k', 10)
    now = 9_999
    assert.equal(await store.get('k'), 1)
    now = 10_000
    assert.equal(await store.get('k'), 0)
  })

  test('reports the memory driver', ({ assert }) => {
    assert.equal(new MemoryCounterStore().driver, 'memory')
  })
})

// In Redis (only when REDIS_HOST is set): a real one-second window; each store gets its own prefix.
if (redisConfigured) {
  let redis: Redis
  const prefix = `fluffycall:test:counters:${randomUUID()}:`
  counterContract(
    'redis',
    () => ({
      make: async () => new RedisCounterStore(redis, `${prefix}${randomUUID()}:`),
      advance: (ms) => sleep(ms),
    }),
    (group) => {
      group.setup(async () => {
        redis = await connectRedis()
        return async () => {
          await deleteKeys(redis, prefix)
          await redis.quit()
        }
      })
    }
  )
}
