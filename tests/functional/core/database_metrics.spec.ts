import { test } from '@japa/runner'
import db from '@adonisjs/lucid/services/db'
import testUtils from '@adonisjs/core/services/test_utils'
import { statementFigures as figures } from '#tests/support/database'

/**
 * /metrics times every statement the app sends, once, by connection and kind (issue 17: from
 * knex's query events instead of Lucid's db:query events; the same statements and labels).
 */
test.group('Database statement metrics', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('a raw statement and a query builder select are timed once each, by kind', async ({
    assert,
  }) => {
    const raw = await figures('raw')
    const select = await figures('select')
    await db.rawQuery('select 1 as one')
    await db.from('users').select('id').limit(1)
    assert.deepEqual(await figures('raw'), { timed: raw.timed + 1, failed: raw.failed })
    assert.deepEqual(await figures('select'), { timed: select.timed + 1, failed: select.failed })
  })

  test('a failed statement is timed and counted as failed', async ({ assert }) => {
    const before = await figures('raw')
    await assert.rejects(() => db.rawQuery('select * from no_such_table_for_metrics'))
    assert.deepEqual(await figures('raw'), { timed: before.timed + 1, failed: before.failed + 1 })
  })

  test("a transaction's statements are timed, its own BEGIN and COMMIT are not", async ({
    assert,
  }) => {
    const raw = await figures('raw')
    const other = await figures('other')
    await db.transaction(async (trx) => {
      await trx.rawQuery('select 1 as one')
      await trx.rawQuery('select 2 as two')
    })
    assert.deepEqual(await figures('raw'), { timed: raw.timed + 2, failed: raw.failed })
    assert.deepEqual(await figures('other'), other)
  })
})
