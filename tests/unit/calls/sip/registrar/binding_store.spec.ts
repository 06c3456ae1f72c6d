import { randomUUID } from 'node:crypto'
import { test } from '@japa/runner'
import type { Redis } from 'ioredis'
import type { Binding } from '#calls/sip/registrar/binding'
import type { BindingStore } from '#calls/sip/registrar/binding_store'
import MemoryBindingStore from '#calls/sip/registrar/memory_binding_store'
import RedisBindingStore from '#calls/sip/registrar/redis_binding_store'
import type { NonceCountStore } from '#calls/sip/registrar/nonce_count_store'
import MemoryNonceCountStore from '#calls/sip/registrar/memory_nonce_count_store'
import RedisNonceCountStore from '#calls/sip/registrar/redis_nonce_count_store'
import { connectRedis, deleteKeys, redisConfigured } from '#tests/support/redis'

interface ContractDriver {
  /** Fresh, empty stores on a clock that `advance` moves. */
  bindings(): Promise<BindingStore>
  nonceCounts(): Promise<NonceCountStore>
  advance(ms: number): void
  now(): number
}

function binding(now: number, overrides: Partial<Binding> = {}): Binding {
  const contactUri = overrides.contactUri ?? 'sip:phone@192.0.2.50:5062'
  return {
    aor: 'sip:fcdevice1@sip.fluffycall.test',
    contactUri,
    contact: `<${contactUri}>`,
    expiresAt: now + 60_000,
    registeredAt: now,
    callId: 'call-1',
    cseq: 1,
    source: { protocol: 'udp', host: '192.0.2.50', port: 5062 },
    userId: 1,
    companyId: 2,
    deviceId: 3,
    ...overrides,
  }
}

/** The behaviour every BindingStore (and NonceCountStore) must have; run once per implementation. */
function bindingContract(name: string, driver: () => ContractDriver, setup?: (group: any) => void) {
  test.group(`BindingStore contract: ${name}`, (group) => {
    setup?.(group)

    test('an unknown AOR and user have no bindings', async ({ assert }) => {
      const store = await driver().bindings()
      assert.deepEqual(await store.list('sip:nobody@x'), [])
      assert.deepEqual(await store.listForUser(999), [])
    })

    test('save then list returns the binding as saved, connection id included', async ({ assert }) => {
      const clock = driver()
      const store = await clock.bindings()
      const saved = binding(clock.now(), {
        source: { protocol: 'wss', host: '203.0.113.5', port: 443, connectionId: 'conn-7' },
      })
      await store.save(saved)
      assert.deepEqual(await store.list(saved.aor), [saved])
      assert.deepEqual(await store.listForUser(1), [saved])
    })

    test('saving the same contact again replaces it; other contacts stay', async ({ assert }) => {
      const clock = driver()
      const store = await clock.bindings()
      await store.save(binding(clock.now(), { contactUri: 'sip:a@192.0.2.1' }))
      await store.save(binding(clock.now(), { contactUri: 'sip:b@192.0.2.2' }))
      await store.save(binding(clock.now(), { contactUri: 'sip:a@192.0.2.1', cseq: 2, expiresAt: clock.now() + 120_000 }))
      const listed = await store.list('sip:fcdevice1@sip.fluffycall.test')
      assert.deepEqual(
        listed.map((entry) => [entry.contactUri, entry.cseq]),
        [
          ['sip:b@192.0.2.2', 1],
          ['sip:a@192.0.2.1', 2],
        ],
        'one entry per contact, soonest expiry first'
      )
    })

    test('AORs are separate; listForUser gathers all AORs of a user', async ({ assert }) => {
      const clock = driver()
      const store = await clock.bindings()
      await store.save(binding(clock.now(), { aor: 'sip:desk@r', userId: 5 }))
      await store.save(binding(clock.now(), { aor: 'sip:soft@r', userId: 5, contactUri: 'sip:s@192.0.2.9' }))
      await store.save(binding(clock.now(), { aor: 'sip:other@r', userId: 6 }))
      assert.lengthOf(await store.list('sip:desk@r'), 1)
      assert.sameMembers(
        (await store.listForUser(5)).map((entry) => entry.aor),
        ['sip:desk@r', 'sip:soft@r']
      )
    })

    test('remove deletes one binding from its AOR and its user', async ({ assert }) => {
      const clock = driver()
      const store = await clock.bindings()
      const first = binding(clock.now(), { contactUri: 'sip:a@192.0.2.1' })
      await store.save(first)
      await store.save(binding(clock.now(), { contactUri: 'sip:b@192.0.2.2' }))
      await store.remove(first)
      assert.deepEqual((await store.list(first.aor)).map((entry) => entry.contactUri), ['sip:b@192.0.2.2'])
      assert.deepEqual((await store.listForUser(1)).map((entry) => entry.contactUri), ['sip:b@192.0.2.2'])
    })

    test('a binding is gone once its expiry passes on the store clock', async ({ assert }) => {
      const clock = driver()
      const store = await clock.bindings()
      await store.save(binding(clock.now(), { contactUri: 'sip:short@192.0.2.1', expiresAt: clock.now() + 1_000 }))
      await store.save(binding(clock.now(), { contactUri: 'sip:long@192.0.2.2', expiresAt: clock.now() + 5_000 }))
      clock.advance(999)
      assert.lengthOf(await store.list('sip:fcdevice1@sip.fluffycall.test'), 2)
      clock.advance(1)
      assert.deepEqual(
        (await store.list('sip:fcdevice1@sip.fluffycall.test')).map((entry) => entry.contactUri),
        ['sip:long@192.0.2.2']
      )
      clock.advance(4_000)
      assert.deepEqual(await store.listForUser(1), [])
    })

    test('nonce counts: only a higher count than any seen is accepted', async ({ assert }) => {
      const store = await driver().nonceCounts()
      const nonce = randomUUID()
      assert.isTrue(await store.advance(nonce, 1, 60))
      assert.isFalse(await store.advance(nonce, 1, 60))
      assert.isTrue(await store.advance(nonce, 3, 60))
      assert.isFalse(await store.advance(nonce, 2, 60))
      assert.isTrue(await store.advance(randomUUID(), 1, 60), 'counts are per nonce')
    })

    test('concurrent uses of one count: exactly one is accepted', async ({ assert }) => {
      const store = await driver().nonceCounts()
      const nonce = randomUUID()
      const results = await Promise.all(Array.from({ length: 10 }, () => store.advance(nonce, 1, 60)))
      assert.equal(results.filter(Boolean).length, 1)
    })
  })
}

let memoryTime = 1_700_000_000_000
bindingContract('memory', () => ({
  bindings: async () => new MemoryBindingStore(() => memoryTime),
  nonceCounts: async () => new MemoryNonceCountStore(() => memoryTime),
  advance: (ms) => {
    memoryTime += ms
  },
  now: () => memoryTime,
}))

// In Redis (only when REDIS_HOST is set); each store gets its own prefix, expiry follows the injected clock.
if (redisConfigured) {
  let redis: Redis
  const prefix = `fluffycall:test:bindings:${randomUUID()}:`
  let redisTime = Date.now()
  bindingContract(
    'redis',
    () => ({
      bindings: async () => new RedisBindingStore(redis, `${prefix}${randomUUID()}:`, () => redisTime),
      nonceCounts: async () => new RedisNonceCountStore(redis, `${prefix}${randomUUID()}:nc:`),
      advance: (ms) => {
        redisTime += ms
      },
      now: () => redisTime,
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

  test.group('RedisBindingStore', (group) => {
    let connection: Redis
    group.setup(async () => {
      connection = await connectRedis()
      return async () => {
        await deleteKeys(connection, prefix)
        await connection.quit()
      }
    })

    test('bindings carry a Redis TTL, so a crashed node leaves nothing behind', async ({ assert }) => {
      const own = `${prefix}${randomUUID()}:`
      const store = new RedisBindingStore(connection, own)
      await store.save(binding(Date.now(), { expiresAt: Date.now() + 30_000 }))
      const keys = await connection.keys(`${own}*`)
      assert.lengthOf(keys, 3, 'the binding and its two indexes')
      for (const key of keys) {
        const ttl = await connection.pttl(key)
        assert.isAbove(ttl, 25_000, key)
        assert.isAtMost(ttl, 30_000, key)
      }
    })
  })
}
