import { createHash, randomUUID } from 'node:crypto'
import { test } from '@japa/runner'
import { Redis } from 'ioredis'
import type { Binding } from '#sip/registrar/binding'
import type { BindingStore } from '#sip/registrar/binding_store'
import MemoryBindingStore from '#sip/registrar/memory_binding_store'
import RedisBindingStore from '#sip/registrar/redis_binding_store'
import type { NonceCountStore } from '#sip/registrar/nonce_count_store'
import MemoryNonceCountStore from '#sip/registrar/memory_nonce_count_store'
import RedisNonceCountStore from '#sip/registrar/redis_nonce_count_store'
import type { LegacyBindingOwner, LegacySubject } from '#sip/registrar/stored_binding'
import {
  connectRedis,
  deleteKeys,
  redisConfigured,
  redisConnectionOptions,
} from '#tests/support/redis'

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
    subject: 'party-1/phone-3',
    ...overrides,
  }
}

/** The behaviour every BindingStore (and NonceCountStore) must have; run once per implementation. */
function bindingContract(name: string, driver: () => ContractDriver, setup?: (group: any) => void) {
  test.group(`BindingStore contract: ${name}`, (group) => {
    setup?.(group)

    test('an unknown AOR and subject have no bindings', async ({ assert }) => {
      const store = await driver().bindings()
      assert.deepEqual(await store.list('sip:nobody@x'), [])
      assert.deepEqual(await store.listForSubject('party-999'), [])
    })

    test('save then list returns the binding as saved, connection id included', async ({
      assert,
    }) => {
      const clock = driver()
      const store = await clock.bindings()
      const saved = binding(clock.now(), {
        source: { protocol: 'wss', host: '203.0.113.5', port: 443, connectionId: 'conn-7' },
      })
      await store.save(saved)
      assert.deepEqual(await store.list(saved.aor), [saved])
      assert.deepEqual(await store.listForSubject('party-1'), [saved])
      assert.deepEqual(await store.listForSubject('party-1/phone-3'), [saved])
    })

    test('saving the same contact again replaces it; other contacts stay', async ({ assert }) => {
      const clock = driver()
      const store = await clock.bindings()
      await store.save(binding(clock.now(), { contactUri: 'sip:a@192.0.2.1' }))
      await store.save(binding(clock.now(), { contactUri: 'sip:b@192.0.2.2' }))
      await store.save(
        binding(clock.now(), {
          contactUri: 'sip:a@192.0.2.1',
          cseq: 2,
          expiresAt: clock.now() + 120_000,
        })
      )
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

    test('AORs are separate; listForSubject gathers all AORs under a subject, by whole levels', async ({
      assert,
    }) => {
      const clock = driver()
      const store = await clock.bindings()
      await store.save(binding(clock.now(), { aor: 'sip:desk@r', subject: 'party-5/desk' }))
      await store.save(
        binding(clock.now(), {
          aor: 'sip:soft@r',
          subject: 'party-5/soft',
          contactUri: 'sip:s@192.0.2.9',
        })
      )
      await store.save(binding(clock.now(), { aor: 'sip:other@r', subject: 'party-50/desk' }))
      assert.lengthOf(await store.list('sip:desk@r'), 1)
      assert.sameMembers(
        (await store.listForSubject('party-5')).map((entry) => entry.aor),
        ['sip:desk@r', 'sip:soft@r'],
        'party-50 is not under party-5'
      )
      assert.deepEqual(
        (await store.listForSubject('party-5/soft')).map((entry) => entry.aor),
        ['sip:soft@r']
      )
      assert.deepEqual(await store.listForSubject('party-5/des'), [])
    })

    test('remove deletes one binding from its AOR and its subject', async ({ assert }) => {
      const clock = driver()
      const store = await clock.bindings()
      const first = binding(clock.now(), { contactUri: 'sip:a@192.0.2.1' })
      await store.save(first)
      await store.save(binding(clock.now(), { contactUri: 'sip:b@192.0.2.2' }))
      await store.remove(first)
      assert.deepEqual(
        (await store.list(first.aor)).map((entry) => entry.contactUri),
        ['sip:b@192.0.2.2']
      )
      assert.deepEqual(
        (await store.listForSubject('party-1')).map((entry) => entry.contactUri),
        ['sip:b@192.0.2.2']
      )
    })

    test('a binding is gone once its expiry passes on the store clock', async ({ assert }) => {
      const clock = driver()
      const store = await clock.bindings()
      await store.save(
        binding(clock.now(), { contactUri: 'sip:short@192.0.2.1', expiresAt: clock.now() + 1_000 })
      )
      await store.save(
        binding(clock.now(), { contactUri: 'sip:long@192.0.2.2', expiresAt: clock.now() + 5_000 })
      )
      clock.advance(999)
      assert.lengthOf(await store.list('sip:fcdevice1@sip.fluffycall.test'), 2)
      clock.advance(1)
      assert.deepEqual(
        (await store.list('sip:fcdevice1@sip.fluffycall.test')).map((entry) => entry.contactUri),
        ['sip:long@192.0.2.2']
      )
      clock.advance(4_000)
      assert.deepEqual(await store.listForSubject('party-1'), [])
    })

    test('removeByConnection removes and returns the bindings made over that connection only', async ({
      assert,
    }) => {
      const clock = driver()
      const store = await clock.bindings()
      const over = (connectionId: string) => ({
        protocol: 'ws' as const,
        host: '203.0.113.5',
        port: 50000,
        connectionId,
      })
      const tab = binding(clock.now(), {
        contactUri: 'sip:tab@a.invalid;transport=ws',
        source: over('ws-1'),
      })
      const otherAor = binding(clock.now(), {
        aor: 'sip:fcdevice2@sip.fluffycall.test',
        subject: 'party-7/tab',
        contactUri: 'sip:tab2@b.invalid;transport=ws',
        source: over('ws-1'),
      })
      const otherTab = binding(clock.now(), {
        contactUri: 'sip:other@c.invalid;transport=ws',
        source: over('ws-2'),
      })
      const udpPhone = binding(clock.now(), { contactUri: 'sip:desk@192.0.2.50:5062' })
      for (const entry of [tab, otherAor, otherTab, udpPhone]) await store.save(entry)

      const removed = await store.removeByConnection('ws-1')
      assert.sameMembers(
        removed.map((entry) => entry.contactUri),
        [tab.contactUri, otherAor.contactUri]
      )
      assert.deepEqual(
        removed.find((entry) => entry.contactUri === tab.contactUri),
        tab
      )
      assert.sameMembers(
        (await store.list(tab.aor)).map((entry) => entry.contactUri),
        [otherTab.contactUri, udpPhone.contactUri]
      )
      assert.deepEqual(await store.listForSubject('party-7'), [], 'gone from the subject index too')
      assert.deepEqual(await store.removeByConnection('ws-1'), [], 'a second close finds nothing')
      assert.deepEqual(await store.removeByConnection('never-seen'), [])
    })

    test('removeByConnection keeps a binding refreshed over a new connection since', async ({
      assert,
    }) => {
      const clock = driver()
      const store = await clock.bindings()
      const source = { protocol: 'tcp' as const, host: '192.0.2.60', port: 5060 }
      const first = binding(clock.now(), { source: { ...source, connectionId: 'tcp-old' } })
      await store.save(first)
      // The phone reconnected and refreshed its registration before the old connection's close was handled.
      const refreshed = { ...first, cseq: 2, source: { ...source, connectionId: 'tcp-new' } }
      await store.save(refreshed)
      assert.deepEqual(await store.removeByConnection('tcp-old'), [])
      assert.deepEqual(await store.list(first.aor), [refreshed])
      assert.deepEqual(await store.removeByConnection('tcp-new'), [refreshed])
      assert.deepEqual(await store.list(first.aor), [])
    })

    test('removeByConnection after a plain remove finds nothing left to remove', async ({
      assert,
    }) => {
      const clock = driver()
      const store = await clock.bindings()
      const tab = binding(clock.now(), {
        source: { protocol: 'wss', host: '203.0.113.5', port: 443, connectionId: 'ws-9' },
      })
      await store.save(tab)
      await store.remove(tab)
      assert.deepEqual(await store.removeByConnection('ws-9'), [])
      await store.save(tab)
      assert.deepEqual(await store.removeByConnection('ws-9'), [tab], 'saved again, indexed again')
    })

    test('a binding behind a front keeps its Path and flow; removeByFlow removes it (twice is harmless), its front connection closing does not', async ({
      assert,
    }) => {
      const clock = driver()
      const store = await clock.bindings()
      const front = {
        protocol: 'tcp' as const,
        host: '192.0.2.9',
        port: 5060,
        connectionId: 'front-1',
      }
      const browser = binding(clock.now(), {
        contactUri: 'sip:abc@def.invalid;transport=ws',
        source: front,
        path: ['<sip:192.0.2.9:5060;transport=tcp;lr>', '<sip:192.0.2.10;lr>'],
        flow: 'wss:[2001:db8::7]:50123',
      })
      const other = binding(clock.now(), {
        contactUri: 'sip:xyz@other.invalid;transport=ws',
        source: front,
        path: ['<sip:192.0.2.9:5060;transport=tcp;lr>'],
        flow: 'wss:198.51.100.8:40000',
      })
      await store.save(browser)
      await store.save(other)
      assert.deepEqual(await store.list(browser.aor), [browser, other])
      assert.deepEqual(await store.removeByConnection('front-1'), [])
      assert.deepEqual(await store.removeByFlow('wss:[2001:db8::7]:50123'), [browser])
      assert.deepEqual(await store.removeByFlow('wss:[2001:db8::7]:50123'), [])
      assert.deepEqual(await store.list(browser.aor), [other])
    })

    test('a binding refreshed from another flow stays when its old flow closes', async ({
      assert,
    }) => {
      const clock = driver()
      const store = await clock.bindings()
      await store.save(binding(clock.now(), { flow: 'ws:198.51.100.8:40000' }))
      const refreshed = binding(clock.now(), { flow: 'ws:198.51.100.8:40001', cseq: 2 })
      await store.save(refreshed)
      assert.deepEqual(await store.removeByFlow('ws:198.51.100.8:40000'), [])
      assert.deepEqual(await store.list(refreshed.aor), [refreshed])
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
      const results = await Promise.all(
        Array.from({ length: 10 }, () => store.advance(nonce, 1, 60))
      )
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
      bindings: async () =>
        new RedisBindingStore(redis, `${prefix}${randomUUID()}:`, () => redisTime),
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

    test('bindings carry a Redis TTL, so a crashed node leaves nothing behind', async ({
      assert,
    }) => {
      const own = `${prefix}${randomUUID()}:`
      const store = new RedisBindingStore(connection, own)
      await store.save(binding(Date.now(), { expiresAt: Date.now() + 30_000 }))
      const keys = await connection.keys(`${own}*`)
      assert.lengthOf(keys, 4, 'the binding, its AOR index and one index per level of its subject')
      for (const key of keys) {
        const ttl = await connection.pttl(key)
        assert.isAbove(ttl, 25_000, key)
        assert.isAtMost(ttl, 30_000, key)
      }
    })

    test('removeByConnection works under an ioredis keyPrefix (REDIS_PREFIX)', async ({
      assert,
    }) => {
      const prefixed = new Redis({ ...redisConnectionOptions(), keyPrefix: `${prefix}pfx:` })
      try {
        const store = new RedisBindingStore(prefixed, 'sip:')
        const tab = binding(Date.now(), {
          source: { protocol: 'wss', host: '203.0.113.5', port: 443, connectionId: 'ws-prefixed' },
        })
        await store.save(tab)
        assert.deepEqual(await store.removeByConnection('ws-prefixed'), [tab])
        assert.deepEqual(await store.list(tab.aor), [])
        assert.deepEqual(await connection.keys(`${prefix}pfx:*`), [], 'nothing left behind')
      } finally {
        prefixed.disconnect()
      }
    })

    test('a stream binding is indexed under its connection with the same TTL', async ({
      assert,
    }) => {
      const own = `${prefix}${randomUUID()}:`
      const store = new RedisBindingStore(connection, own)
      await store.save(
        binding(Date.now(), {
          expiresAt: Date.now() + 30_000,
          source: { protocol: 'tcp', host: '192.0.2.60', port: 5060, connectionId: 'tcp-ttl' },
        })
      )
      const index = `${own}connection:tcp-ttl`
      assert.equal(await connection.zcard(index), 1)
      assert.isAbove(await connection.pttl(index), 25_000)
      await store.removeByConnection('tcp-ttl')
      assert.equal(await connection.exists(index), 0, 'the index goes with its connection')
      assert.deepEqual(await connection.keys(`${own}*`), [], 'nothing left behind')
    })

    test('a binding of the first format is read with the owner subject, then moved to the subject indexes', async ({
      assert,
    }) => {
      const own = `${prefix}${randomUUID()}:`
      const now = Date.now()
      const old = firstFormat(binding(now, { expiresAt: now + 30_000 }), {
        userId: 1,
        companyId: 2,
        deviceId: 3,
      })
      await saveFirstFormat(connection, own, old, now)
      const store = new RedisBindingStore(connection, own, () => now, legacySubject)
      const expected = binding(now, {
        expiresAt: now + 30_000,
        subject: 'user-1/company-2/device-3',
      })

      assert.deepEqual(await store.list(old.aor), [expected], 'found by its AOR at once')
      assert.deepEqual(await store.listForSubject('user-1'), [], 'not yet in the subject index')
      assert.deepEqual(
        await new RedisBindingStore(connection, own, () => now).list(old.aor),
        [],
        'a store without the owner mapping leaves it out'
      )

      assert.equal(await store.upgradeLegacy(), 1)
      assert.deepEqual(await store.listForSubject('user-1'), [expected])
      assert.deepEqual(await store.listForSubject('user-1/company-2/device-3'), [expected])
      assert.deepEqual(await store.list(old.aor), [expected])
      const id = storedId(old)
      assert.deepEqual(
        JSON.parse((await connection.get(`${own}binding:${id}`))!),
        expected,
        'rewritten in the new format'
      )
      const ttl = await connection.pttl(`${own}binding:${id}`)
      assert.isAbove(ttl, 25_000, 'its TTL kept')
      assert.isAtMost(ttl, 30_000)
      assert.equal(
        await connection.zcard(`${own}user:1`),
        0,
        'gone from the first-format user index'
      )
      assert.equal(await store.upgradeLegacy(), 0, 'a second run finds nothing to move')

      await store.remove(expected)
      assert.deepEqual(await connection.keys(`${own}*`), [], 'nothing left behind')
    })

    test('first-format bindings: a web phone without device, a closed connection, under an ioredis keyPrefix', async ({
      assert,
    }) => {
      const keyPrefix = `${prefix}${randomUUID()}:`
      const prefixed = new Redis({ ...redisConnectionOptions(), keyPrefix })
      try {
        const now = Date.now()
        const tab = firstFormat(
          binding(now, {
            aor: 'sip:web1@r',
            contactUri: 'sip:tab@a.invalid;transport=ws',
            source: { protocol: 'wss', host: '203.0.113.5', port: 443, connectionId: 'ws-old' },
          }),
          { userId: 7, companyId: 8 }
        )
        const desk = firstFormat(binding(now, { aor: 'sip:desk7@r' }), {
          userId: 7,
          companyId: 8,
          deviceId: 9,
        })
        await saveFirstFormat(connection, `${keyPrefix}sip:`, tab, now)
        await saveFirstFormat(connection, `${keyPrefix}sip:`, desk, now)
        const store = new RedisBindingStore(prefixed, 'sip:', () => now, legacySubject)

        const [closed] = await store.removeByConnection('ws-old')
        assert.equal(closed.subject, 'user-7/company-8', 'a web phone binding had no device')
        assert.notProperty(closed, 'userId')
        assert.equal(
          await connection.zcard(`${keyPrefix}sip:user:7`),
          1,
          'only the desk phone is left in the user index'
        )

        assert.equal(await store.upgradeLegacy(), 1)
        assert.deepEqual(
          (await store.listForSubject('user-7')).map((entry) => entry.aor),
          ['sip:desk7@r']
        )
        await store.remove((await store.listForSubject('user-7'))[0])
        assert.deepEqual(await connection.keys(`${keyPrefix}*`), [], 'nothing left behind')
      } finally {
        prefixed.disconnect()
      }
    })
  })
}

/** The owner's mapping of the first format, as the calls module gives one. */
const legacySubject: LegacySubject = ({ userId, companyId, deviceId }) =>
  `user-${userId}/company-${companyId}${deviceId !== undefined ? `/device-${deviceId}` : ''}`

/** A binding as the first format stored it: user, company and device ids instead of a subject. */
function firstFormat(current: Binding, owner: LegacyBindingOwner) {
  const stored: Omit<Binding, 'subject'> & Partial<Binding> = { ...current }
  delete stored.subject
  return { ...stored, ...owner }
}

function storedId(entry: Pick<Binding, 'aor' | 'contactUri'>) {
  return createHash('sha256').update(`${entry.aor}\n${entry.contactUri}`).digest('base64url')
}

/** Writes a binding the way the first format's store did (its keys, indexes and TTLs). */
async function saveFirstFormat(
  redis: Redis,
  prefix: string,
  entry: ReturnType<typeof firstFormat>,
  now: number
) {
  const id = storedId(entry)
  const ttl = entry.expiresAt - now
  const indexes = [
    `${prefix}aor:${entry.aor}`,
    `${prefix}user:${entry.userId}`,
    ...(entry.source.connectionId ? [`${prefix}connection:${entry.source.connectionId}`] : []),
  ]
  const write = redis.multi().set(`${prefix}binding:${id}`, JSON.stringify(entry), 'PX', ttl)
  for (const index of indexes) write.zadd(index, entry.expiresAt, id).pexpire(index, ttl)
  await write.exec()
}
