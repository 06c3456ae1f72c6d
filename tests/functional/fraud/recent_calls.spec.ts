import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import testUtils from '@adonisjs/core/services/test_utils'
import { sqlTime } from '#core/sql_time'
import RecentCalls, { type CallRow } from '#fraud/services/recent_calls'
import { makeCompany } from '#tests/support/accounts'
import { writeCdrs } from '#tests/support/fraud_traffic'

const HOUR = 3_600_000
const now = DateTime.fromISO('2026-11-25T10:00:00Z', { zone: 'utc' })

/** What the window keeps: the row's id, start and whether it was answered; counts the rows read. */
function reader() {
  const read: number[] = []
  const toFact = (row: CallRow) => {
    read.push(Number(row.id))
    return {
      id: Number(row.id),
      startedAt: DateTime.fromJSDate(
        row.started_at instanceof Date
          ? row.started_at
          : new Date(`${String(row.started_at).replace(' ', 'T')}Z`)
      ).toMillis(),
      answered: row.answered_at !== null,
    }
  }
  return { read, toFact }
}

type Fact = ReturnType<ReturnType<typeof reader>['toFact']>

/** A window with a 2 s margin; the other options as the test needs them. */
function windowOf(options: { reloadAfterMs: number; maxCompanies: number; verifyEveryMs: number }) {
  return new RecentCalls<Fact>({ marginMs: 2_000, ...options })
}

function ids(facts: Array<{ id: number }>) {
  return facts.map((fact) => fact.id).sort((a, b) => a - b)
}

test.group('Fraud analysis: the recent calls kept between calls', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('after the first read only rows that started or ended since are read again', async ({
    assert,
  }) => {
    const company = await makeCompany('active')
    const other = await makeCompany('active')
    const history = await writeCdrs(
      Array.from({ length: 40 }, (_, index) => ({
        companyId: company.id,
        number: '+4930123456',
        startedAt: now.minus({ minutes: 50 + index }),
        answeredSeconds: 30,
      }))
    )
    await writeCdrs([{ companyId: other.id, number: '+4930123456', startedAt: now }])
    const window = windowOf({ reloadAfterMs: 2 * HOUR, maxCompanies: 10, verifyEveryMs: 0 })
    const { read, toFact } = reader()

    const first = await window.of(company.id, now.toMillis() - 24 * HOUR, now.toMillis(), toFact)
    assert.deepEqual(
      ids(first),
      [...history].sort((a, b) => a - b)
    )
    assert.lengthOf(read, 40)

    // a call starts 30 s later; another, started before the last look, ends now
    read.length = 0
    const [started] = await writeCdrs([
      { companyId: company.id, number: '+4930999999', startedAt: now.plus({ seconds: 30 }) },
    ])
    const later = now.plus({ seconds: 40 })
    await db
      .from('call_records')
      .where('id', history[0])
      .update({ ended_at: sqlTime(later), answered_at: null })
    const second = await window.of(
      company.id,
      later.toMillis() - 24 * HOUR,
      later.toMillis(),
      toFact
    )
    assert.sameMembers(read, [started, history[0]])
    assert.deepEqual(
      ids(second),
      [...history, started].sort((a, b) => a - b)
    )
    assert.isFalse(second.find((fact) => fact.id === history[0])!.answered)

    // calls that leave the window are dropped without a read; only the row that ended within
    // the margin of the last look is read again
    read.length = 0
    const muchLater = now.plus({ hours: 1 })
    const third = await window.of(
      company.id,
      now.minus({ seconds: 69 * 60 + 30 }).toMillis(),
      muchLater.toMillis(),
      toFact
    )
    assert.deepEqual(read, [history[0]])
    assert.deepEqual(
      ids(third),
      [...history.slice(0, 20), started].sort((a, b) => a - b)
    )
  })

  test('a row that vanished or arrived later than the margin makes the window read whole again', async ({
    assert,
  }) => {
    const company = await makeCompany('active')
    const rows = await writeCdrs(
      Array.from({ length: 5 }, (_, index) => ({
        companyId: company.id,
        number: '+4930123456',
        startedAt: now.minus({ minutes: 10 + index }),
      }))
    )
    const window = windowOf({ reloadAfterMs: HOUR, maxCompanies: 10, verifyEveryMs: 0 })
    const { read, toFact } = reader()
    const look = (at: DateTime) =>
      window.of(company.id, at.toMillis() - HOUR, at.toMillis(), toFact)
    await look(now)

    // erased (or rolled back): not in the database's count any more
    await db.from('call_records').where('id', rows[0]).delete()
    read.length = 0
    const afterErasure = await look(now.plus({ seconds: 5 }))
    assert.deepEqual(
      ids(afterErasure),
      rows.slice(1).sort((a, b) => a - b)
    )
    assert.lengthOf(read, 4, 'read whole again')

    // a row whose start and end lie before the last look less the margin, committed only now
    const [late] = await writeCdrs([
      { companyId: company.id, number: '+4930123456', startedAt: now.minus({ minutes: 30 }) },
    ])
    const afterLate = await look(now.plus({ seconds: 10 }))
    assert.include(ids(afterLate), late)
    assert.lengthOf(afterLate, 5)

    // the analysis's clock went back (a test, a clock step): read whole
    read.length = 0
    await look(now)
    assert.lengthOf(read, 5)
  })

  test('the count is checked every so often, not at every look', async ({ assert }) => {
    const company = await makeCompany('active')
    const rows = await writeCdrs(
      Array.from({ length: 3 }, (_, index) => ({
        companyId: company.id,
        number: '+4930123456',
        startedAt: now.minus({ minutes: 10 + index }),
      }))
    )
    const window = windowOf({ reloadAfterMs: HOUR, maxCompanies: 10, verifyEveryMs: 30_000 })
    const { toFact } = reader()
    const look = (at: DateTime) =>
      window.of(company.id, at.toMillis() - HOUR, at.toMillis(), toFact)
    await look(now)
    await db.from('call_records').where('id', rows[0]).delete()
    assert.lengthOf(await look(now.plus({ seconds: 10 })), 3, 'not checked yet')
    assert.lengthOf(await look(now.plus({ seconds: 31 })), 2, 'checked: read whole')
  })

  test('the companies analysed least recently are forgotten first', async ({ assert }) => {
    const companies = [
      await makeCompany('active'),
      await makeCompany('active'),
      await makeCompany('active'),
    ]
    for (const company of companies) {
      const startedAt = now.minus({ minutes: 10 })
      await writeCdrs([{ companyId: company.id, number: '+4930123456', startedAt }])
    }
    const window = windowOf({ reloadAfterMs: HOUR, maxCompanies: 2, verifyEveryMs: 0 })
    const { read, toFact } = reader()
    const look = (companyId: number) =>
      window.of(companyId, now.toMillis() - HOUR, now.toMillis(), toFact)
    await look(companies[0].id)
    await look(companies[1].id)
    await look(companies[0].id)
    await look(companies[2].id) // forgets companies[1], the least recently analysed
    read.length = 0
    await look(companies[0].id)
    assert.lengthOf(read, 0, 'still kept: nothing changed')
    await look(companies[1].id)
    assert.lengthOf(read, 1, 'forgotten: read whole')
  })
})
