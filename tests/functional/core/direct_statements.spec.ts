import { test } from '@japa/runner'
import db from '@adonisjs/lucid/services/db'
import testUtils from '@adonisjs/core/services/test_utils'
import { DirectStatement } from '#core/direct_statements'
import { statementFigures as figures, statementsDuring } from '#tests/support/database'

/**
 * The call path's statements go to the driver of a pooled connection, without the query builder
 * (issue 17): the same rows, the same transaction (the tests' global one included), the same
 * /metrics histogram, and the statement visible to whoever counts a call's statements.
 */
test.group('Direct statements', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(async () => {
    await db.rawQuery(
      'create temporary table direct_probe (id integer primary key, label varchar(20), flag boolean)'
    )
  })

  test('insert returning, update and delete: rows and counts as the database has them', async ({
    assert,
  }) => {
    const insert = new DirectStatement(
      'insert into direct_probe (id, label, flag) values (?, ?, ?), (?, ?, ?) returning id'
    )
    const inserted = await insert.run([1, 'one', true, 2, 'two', false])
    assert.deepEqual(
      inserted.rows.map((row) => Number(row.id)),
      [1, 2]
    )
    assert.equal(inserted.count, 2)

    const update = new DirectStatement('update direct_probe set label = ? where flag = ?')
    assert.equal((await update.run(['yes', true])).count, 1)
    assert.equal((await update.run(['none', null])).count, 0)
    // Lucid sees what the driver wrote: the same connection, the same transaction
    const rows = await db.from('direct_probe').orderBy('id').select('id', 'label')
    assert.deepEqual(
      rows.map((row) => [Number(row.id), row.label]),
      [
        [1, 'yes'],
        [2, 'two'],
      ]
    )
    const remove = new DirectStatement('delete from direct_probe where id = ?')
    assert.equal((await remove.run([2])).count, 1)
    assert.equal((await remove.run([2])).count, 0)
  })

  test('timed by kind in the /metrics histogram; a failure is counted and thrown', async ({
    assert,
  }) => {
    const insert = await figures('insert')
    const update = await figures('update')
    const removed = await figures('del')
    await new DirectStatement('insert into direct_probe (id, label) values (?, ?)').run([7, 'x'])
    await new DirectStatement('update direct_probe set label = ? where id = ?').run(['y', 7])
    await new DirectStatement('delete from direct_probe where id = ?').run([7])
    assert.deepEqual(await figures('insert'), { timed: insert.timed + 1, failed: insert.failed })
    assert.deepEqual(await figures('update'), { timed: update.timed + 1, failed: update.failed })
    assert.deepEqual(await figures('del'), { timed: removed.timed + 1, failed: removed.failed })

    // After a with clause, its own verb: the words after the CTE's inner parentheses are not it
    const again = await figures('update')
    await new DirectStatement(
      'with picked as (select id from direct_probe where id in (?) or label = ?) update direct_probe set label = ? where id in (select id from picked)'
    ).run([7, 'none', 'z'])
    assert.deepEqual(await figures('update'), { timed: again.timed + 1, failed: again.failed })

    const before = await figures('update')
    await assert.rejects(() =>
      new DirectStatement('update no_such_table_for_direct set a = ?').run([1])
    )
    assert.deepEqual(await figures('update'), {
      timed: before.timed + 1,
      failed: before.failed + 1,
    })
  })

  test('counted with the statements a piece of work sends', async ({ assert }) => {
    const sent = await statementsDuring(async () => {
      await new DirectStatement('insert into direct_probe (id) values (?)').run([3])
      await db.rawQuery('select count(*) as n from direct_probe')
    })
    assert.deepEqual(sent, [
      'insert into direct_probe (id) values (?)',
      'select count(*) as n from direct_probe',
    ])
  })

  test('SQL with literals or identifier placeholders is refused when made', ({ assert }) => {
    assert.throws(() => new DirectStatement("update t set a = 'x?' where id = ?"), /placeholders/)
    assert.throws(() => new DirectStatement('select ?? from t'), /placeholders/)
  })
})
