import { randomUUID } from 'node:crypto'
import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import testUtils from '@adonisjs/core/services/test_utils'
import { DateTime } from 'luxon'
import CallRecord, { type DisconnectCause } from '#calls/models/call_record'
import CallFiguresService from '#calls/services/call_figures_service'
import { makeUser } from '#tests/support/accounts'
import { enableTwoFactor } from '#tests/support/two_factor'

/** Far from any CDR other tests leave behind: the 24-hour window holds only this test's calls. */
const NOW = DateTime.fromISO('2031-03-04T12:20:00Z', { zone: 'utc' })

async function cdr(
  startedMinutesAgo: number,
  outcome: { answeredAfter?: number; cause?: DisconnectCause; open?: boolean }
) {
  const startedAt = NOW.minus({ minutes: startedMinutesAgo })
  return CallRecord.create({
    uuid: randomUUID(),
    companyId: null,
    userId: null,
    direction: 'outbound',
    emergency: false,
    callerNumber: '+4930111',
    calleeNumber: '+4930222',
    callerWithheld: false,
    carrierName: 'figures_carrier',
    region: 'eu',
    nodeId: 'figures-node',
    startedAt,
    answeredAt:
      outcome.answeredAfter === undefined
        ? null
        : startedAt.plus({ seconds: outcome.answeredAfter }),
    endedAt: outcome.open ? null : startedAt.plus({ minutes: 1 }),
    disconnectCause: outcome.open ? null : (outcome.cause ?? 'answered_normal'),
  })
}

test.group('Call figures (admin dashboard)', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('the last 24 hours by hour: calls, answers, failures by cause, setup time, calls now', async ({
    assert,
  }) => {
    await cdr(120, { answeredAfter: 2 })
    await cdr(118, { answeredAfter: 8 })
    await cdr(121, { cause: 'busy' })
    await cdr(30, { cause: 'unreachable' })
    await cdr(31, { cause: 'unreachable' })
    await cdr(29, { cause: 'cancelled' })
    await cdr(1, { open: true })
    await cdr(60 * 30, { cause: 'busy' })

    const figures = await (await app.container.make(CallFiguresService)).figures(NOW)
    assert.equal(figures.callsNow, 1)
    assert.deepEqual(figures.totals, { calls: 7, answered: 2, failed: 3 })
    assert.deepEqual(figures.failuresByCause, [
      { cause: 'unreachable', count: 2 },
      { cause: 'busy', count: 1 },
    ])
    assert.deepEqual(figures.setup, { p50: 2, p95: 8, answered: 2 })

    assert.lengthOf(figures.hours, 24)
    assert.equal(
      figures.hours.reduce((sum, hour) => sum + hour.calls, 0),
      7
    )
    // 10:20 UTC is 11:20 in Berlin (winter time): the hour from 11:00 holds the two answers and the busy call.
    const eleven = figures.hours.find((hour) => hour.label === '11:00')!
    assert.include(eleven, { calls: 3, answered: 2, failed: 1, setupP95: 8 })
    assert.equal(
      figures.hours.at(-1)!.label,
      '13:00',
      'the last bucket is the current hour (13:20 Berlin)'
    )
    assert.notInclude(JSON.stringify(figures), '+4930', 'no number leaves the service')
  })

  test('staff read them as JSON; the dashboard shows the panel', async ({ client, assert }) => {
    const admin = await makeUser('support')
    await enableTwoFactor(admin)
    const json = await client.get('/admin/calls/figures').loginAs(admin)
    json.assertStatus(200)
    assert.properties(json.body(), [
      'callsNow',
      'totals',
      'hours',
      'failuresByCause',
      'setup',
      'carriers',
    ])
    assert.lengthOf(json.body().hours, 24)

    const page = await client.get('/admin').loginAs(admin)
    page.assertStatus(200)
    assert.include(page.text(), 'id="call-figures"')
    assert.include(page.text(), 'Anrufe und Carrier')
    assert.match(page.text(), /<script[^>]+src="[^"]*call_figures[^"]*"/)
  })
})
