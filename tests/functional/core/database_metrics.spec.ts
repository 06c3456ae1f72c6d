import { test } from '@japa/runner'
import db from '@adonisjs/lucid/services/db'
import testUtils from '@adonisjs/core/services/test_utils'
import metrics from '#core/services/metrics'

/** A metric's sample with these labels (a histogram's by its metricName, `_count`), or 0. */
async function sample(name: string, labels: Record<string, string>, metricName?: string) {
  const metric = await metrics.getSingleMetric(name)!.get()
  const found = metric.values.find(
    (entry) =>
      (entry as { metricName?: string }).metricName === metricName &&
      Object.entries(labels).every(([key, wanted]) => entry.labels[key] === wanted)
  )
  return found?.value ?? 0
}

const TIMED = 'fluffycall_db_query_duration_seconds'
const FAILED = 'fluffycall_db_query_errors_total'

/** Timed statements and failures of this connection by kind, after the statements' events. */
async function figures(method: string) {
  // (Lucid's db:query events, which fed the histogram before, were dispatched asynchronously)
  await new Promise((resolve) => setImmediate(resolve))
  const labels = { connection: db.primaryConnectionName, method }
  return {
    timed: await sample(TIMED, labels, `${TIMED}_count`),
    failed: await sample(FAILED, labels),
  }
}

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
