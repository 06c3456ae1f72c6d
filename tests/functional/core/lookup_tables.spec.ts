import { test } from '@japa/runner'
import { EventEmitter } from 'node:events'
import app from '@adonisjs/core/services/app'
import db from '@adonisjs/lucid/services/db'
import testUtils from '@adonisjs/core/services/test_utils'
import NumberService from '#calls/services/number_service'
import { expandNumberBlock } from '#calls/services/number_block'
import {
  COMMIT_SETTLE_MS,
  LookupCache,
  lookupsVersion,
  watchLookupTables,
} from '#core/caching/lookup_changes'
import { isRestricted } from '#privacy/restrictions'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { fakeCarriers } from '#tests/support/carriers'
import { statementsDuring } from '#tests/support/database'

/**
 * Issue 17: what every call reads besides devices, users and companies (caller IDs, the default
 * caller ID, who holds a number, a user's line, processing restrictions, payment suspensions, the
 * DPA, price lists) is kept between calls, and any statement written to those tables, from a
 * model or from the query builder and raw SQL alike, drops it at once: the database connections
 * are watched (#core/caching/lookup_changes).
 */
test.group('Lookups kept between calls: dropped by any write to their tables', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => fakeCarriers())
  group.each.teardown(() => app.container.restore(NumberService))

  test('caller IDs and the default follow every number change at once, and are not read again otherwise', async ({
    assert,
  }) => {
    const service = await app.container.make(NumberService)
    const admin = await makeUser('superadmin')
    const company = await makeCompany('active')
    const user = await makeUser('member', company)
    const numbers = expandNumberBlock({
      numbers: `+49302${String(Math.floor(Math.random() * 9000) + 1000)}0`,
      count: 2,
    })
    await service.import('eu_alpha', numbers, { actor: admin, ip: null })
    assert.deepEqual(await service.callerIdsFor(user), [])

    await service.assignToCompany(numbers, company.id, { actor: admin, ip: null })
    assert.deepEqual(await service.callerIdsFor(user), numbers, 'shared numbers at once')
    assert.equal(await service.defaultCallerId(user), numbers[0])

    assert.equal((await service.findByNumber(numbers[1]))!.companyId, company.id)
    const kept = await statementsDuring(async () => {
      await service.callerIdsFor(user)
      await service.defaultCallerId(user)
      await service.findByNumber(numbers[1])
    })
    assert.notMatch(kept.join('\n'), /phone_numbers|default_caller_ids/, 'kept: not read again')

    // The query builder, behind every model's back
    await db.from('phone_numbers').where('number', numbers[0]).update({ user_id: user.id })
    await db.from('phone_numbers').where('number', numbers[1]).update({ user_id: null })
    const second = await db.from('phone_numbers').where('number', numbers[1]).firstOrFail()
    await service.setDefaultCallerId(company, user.id, Number(second.id), {
      actor: admin,
      ip: null,
    })
    assert.equal(await service.defaultCallerId(user), numbers[1], 'the chosen default at once')
    assert.equal((await service.findByNumber(numbers[0]))!.userId, user.id)

    await db.rawQuery('delete from default_caller_ids where user_id = ?', [user.id])
    assert.equal(await service.defaultCallerId(user), numbers[0], 'raw SQL is seen too')
  })

  test('a processing restriction written by raw SQL reaches the next call', async ({ assert }) => {
    const company = await makeCompany('active')
    const user = await makeUser('member', company)
    assert.isFalse(await isRestricted(user.id))
    const kept = await statementsDuring(() => isRestricted(user.id))
    assert.lengthOf(kept, 0, 'kept between calls')

    await db.table('processing_restrictions').insert({
      user_id: user.id,
      company_id: company.id,
      ground: 'accuracy_contested',
      restricted_at: new Date(),
    })
    assert.isTrue(await isRestricted(user.id))
    await db
      .from('processing_restrictions')
      .where('user_id', user.id)
      .update({ lifted_at: new Date() })
    assert.isFalse(await isRestricted(user.id))
  })

  test('writes to other tables keep the lookups', async ({ assert }) => {
    const company = await makeCompany('active')
    const user = await makeUser('member', company)
    await isRestricted(user.id)
    const before = lookupsVersion()
    await db.from('users').where('id', user.id).update({ full_name: 'Renamed' })
    assert.equal(lookupsVersion(), before)
  })
})

test.group('Lookups: the statement watch (unit)', () => {
  /** A stand-in for a knex instance: it only emits what knex emits around each statement. */
  function connection() {
    const events = new EventEmitter()
    const drops = { count: 0 }
    watchLookupTables(events, () => (drops.count += 1))
    return {
      drops,
      send(sql: string, options: { connection?: string; transaction?: string } = {}) {
        const query = {
          sql,
          __knexUid: options.connection ?? 'c1',
          __knexTxId: options.transaction,
        }
        events.emit('query', query)
        events.emit('query-response', [], query)
      },
    }
  }
  // Names the table so the watch knows it (as the caches in the modules do)
  new LookupCache<number, number>({ tables: ['watched_things'] })

  test('a write drops before it runs and when done; reads and other tables do not', ({
    assert,
  }) => {
    const db1 = connection()
    db1.send('select * from `watched_things` where `id` = ?')
    db1.send('update `other_things` set `x` = 1')
    assert.equal(db1.drops.count, 0)
    for (const sql of [
      'insert into `watched_things` (`id`) values (?)',
      'UPDATE "watched_things" SET "x" = $1',
      'delete from watched_things where id = 1',
      'insert or replace into `watched_things` values (1)',
    ]) {
      const before = db1.drops.count
      db1.send(sql)
      assert.equal(db1.drops.count, before + 2, sql)
    }
  })

  test('in a transaction: dropped at the write, at the commit and once more after it', async ({
    assert,
  }) => {
    const db1 = connection()
    db1.send('BEGIN;', { connection: 'c7', transaction: 'trx1' })
    db1.send('update `watched_things` set `x` = 1', { connection: 'c7', transaction: 'trx1' })
    assert.equal(db1.drops.count, 1)
    // Savepoints of a nested transaction end nothing
    db1.send('RELEASE SAVEPOINT trx2;', { connection: 'c7', transaction: 'trx2' })
    db1.send('ROLLBACK TO SAVEPOINT trx2', { connection: 'c7', transaction: 'trx2' })
    // Another connection's commit is not this transaction's
    db1.send('COMMIT;', { connection: 'c8', transaction: 'trx9' })
    assert.equal(db1.drops.count, 1)
    db1.send('COMMIT;', { connection: 'c7', transaction: 'trx1' })
    assert.equal(db1.drops.count, 2)
    await new Promise((resolve) => setTimeout(resolve, COMMIT_SETTLE_MS + 20))
    assert.equal(db1.drops.count, 3, 'once more after the commit had time to land')
    db1.send('COMMIT;', { connection: 'c7', transaction: 'trx3' })
    assert.equal(db1.drops.count, 3, 'a transaction that wrote nothing watched')
  })
})
