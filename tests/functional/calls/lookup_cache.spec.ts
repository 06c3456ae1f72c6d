import { test } from '@japa/runner'
import { setTimeout as sleep } from 'node:timers/promises'
import { DateTime } from 'luxon'
import app from '@adonisjs/core/services/app'
import db from '@adonisjs/lucid/services/db'
import testUtils from '@adonisjs/core/services/test_utils'
import { callLookups } from '#calls/b2bua/call_lookups'
import SipDeviceService from '#calls/services/sip_device_service'
import {
  COMMIT_SETTLE_MS,
  LookupCache,
  lookupRowChanged,
  lookupsChanged,
  lookupsVersion,
  shareLookupChanges,
} from '#core/caching/lookup_changes'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { connectRedis, redisConfigured } from '#tests/support/redis'

/**
 * The lookups of a call (a device's credential, its user, the company with its status and
 * settings) are kept between calls (issue 17): every change through the models reaches the next
 * call at once, a change the models never saw does not (the proof that they are kept).
 */
test.group('Call lookups kept between calls', (group) => {
  group.each.setup(async () => {
    // The previous test's rollback drops the lookups once more COMMIT_SETTLE_MS later: let it
    // pass first, or it lands between a raw update and the read that proves the row was kept.
    await sleep(COMMIT_SETTLE_MS * 2)
    return testUtils.db().withGlobalTransaction()
  })

  const REALM = 'lookups.test'

  test('a revoked device, a disabled user, a terminated company: their credential is gone at the next request', async ({
    assert,
  }) => {
    const service = new SipDeviceService(REALM)
    const company = await makeCompany('active')
    const { device } = await service.create(await makeUser('member', company), 'Desk')
    assert.isDefined(await service.findByUsername(device.sipUsername))

    // Behind the models' back: the kept row is used
    await db.from('sip_devices').where('id', device.id).update({ revoked_at: new Date() })
    assert.isDefined(await service.findByUsername(device.sipUsername))
    await db.from('sip_devices').where('id', device.id).update({ revoked_at: null })

    await service.revoke(device)
    assert.isUndefined(await service.findByUsername(device.sipUsername))

    const second = await service.create(await makeUser('member', company), 'Desk 2')
    assert.isDefined(await service.findByUsername(second.device.sipUsername))
    const user = await second.device.related('user').query().firstOrFail()
    user.disabledAt = DateTime.utc()
    await user.save()
    assert.isUndefined(await service.findByUsername(second.device.sipUsername))

    const third = await service.create(await makeUser('member', company), 'Desk 3')
    assert.isDefined(await service.findByUsername(third.device.sipUsername))
    company.status = 'terminated'
    await company.save()
    assert.isUndefined(await service.findByUsername(third.device.sipUsername))
  })

  test('"encrypted only" switched on reaches the credential of the next request', async ({
    assert,
  }) => {
    const service = new SipDeviceService(REALM)
    const company = await makeCompany('active', { encryptedOnly: false })
    const owner = await makeUser('owner', company)
    const { device } = await service.create(owner, 'Desk')
    assert.isFalse((await service.findByUsername(device.sipUsername))!.encryptedTransportOnly)
    await service.setEncryptedOnly(company, true, { actor: owner })
    assert.isTrue((await service.findByUsername(device.sipUsername))!.encryptedTransportOnly)
  })

  test('a company suspended through its model is suspended for the next call; a raw update is not seen', async ({
    assert,
  }) => {
    const company = await makeCompany('active')
    const user = await makeUser('member', company)
    assert.equal((await callLookups.company(company.id))!.status, 'active')
    assert.equal((await callLookups.user(user.id))!.id, user.id)

    await db.from('companies').where('id', company.id).update({ status: 'pending' })
    assert.equal((await callLookups.company(company.id))!.status, 'active', 'kept')

    const fresh = await company.refresh()
    fresh.status = 'suspended'
    await fresh.save()
    assert.equal((await callLookups.company(company.id))!.status, 'suspended')

    user.disabledAt = DateTime.utc()
    await user.save()
    assert.isNotNull((await callLookups.user(user.id))!.disabledAt)
  })

  test('a change inside a transaction is dropped again at its commit (an old row read meanwhile is not kept)', async ({
    assert,
  }) => {
    const cache = new LookupCache<number, string>()
    const handlers: Array<{ event: string; handler: () => void }> = []
    const trx = {
      after: (event: 'commit' | 'rollback', handler: () => void) =>
        handlers.push({ event, handler }),
    }
    // The row is saved in a transaction; another request reads the committed (old) row meanwhile
    lookupRowChanged({ $trx: trx })
    assert.equal(await cache.get(1, async () => 'active'), 'active')
    assert.equal(await cache.get(1, async () => 'suspended'), 'active', 'kept until the commit')
    for (const { event, handler } of handlers) if (event === 'commit') handler()
    assert.equal(await cache.get(1, async () => 'suspended'), 'suspended')
  })

  if (redisConfigured)
    test('a change is published to the other nodes, and theirs drop this one', async ({
      assert,
      cleanup,
    }) => {
      const other = await connectRedis()
      cleanup(() => other.disconnect())
      const listener = await connectRedis()
      cleanup(() => listener.disconnect())
      const stop = shareLookupChanges(await app.container.make('redis'), {
        prefix: 'lookups-test:',
        nodeId: 'this-node',
      })
      cleanup(stop)

      const published = new Promise<string>((resolve) => {
        listener.on('message', (_channel, message) => resolve(message))
      })
      await listener.subscribe('lookups-test:calls:lookups-changed')
      lookupsChanged()
      assert.equal(await published, 'this-node')

      const company = await makeCompany('active')
      assert.equal((await callLookups.company(company.id))!.status, 'active')
      // Another node suspends it (its own database connection; only its announcement reaches us)
      await db.from('companies').where('id', company.id).update({ status: 'suspended' })
      const before = lookupsVersion()
      const deadline = Date.now() + 5000
      while (lookupsVersion() === before && Date.now() < deadline) {
        await other.publish('lookups-test:calls:lookups-changed', 'other-node')
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      assert.isAbove(lookupsVersion(), before, 'a change announced by another node')
      assert.equal((await callLookups.company(company.id))!.status, 'suspended')
    })
})
