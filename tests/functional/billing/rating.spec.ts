import { randomUUID } from 'node:crypto'
import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import emitter from '@adonisjs/core/services/emitter'
import db from '@adonisjs/lucid/services/db'
import { DateTime } from 'luxon'
import type User from '#accounts/models/user'
import CallRecord from '#calls/models/call_record'
import PriceListRate from '#billing/models/price_list_rate'
import CdrService from '#calls/b2bua/cdr_service'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { makePriceList } from '#tests/support/billing'
import { sqlTime } from '#core/sql_time'
import '#calls/events'

/** Every CDR is rated when call:ended is emitted (start/events.ts → RateCall), once. */

/** The parties of an outbound call from the user's company to a Berlin landline. */
function outboundOf(user: User) {
  return {
    companyId: user.companyId,
    userId: user.id,
    direction: 'outbound' as const,
    emergency: false,
    callerNumber: '+493011110000',
    calleeNumber: '+4930123456',
    callerWithheld: false,
  }
}

async function endedCall(user: User, fields: Partial<CallRecord> = {}) {
  const startedAt = DateTime.fromISO('2026-06-15T10:00:00Z')
  const duration = fields.durationSeconds ?? 61
  return CallRecord.create({
    uuid: randomUUID(),
    ...outboundOf(user),
    startedAt,
    answeredAt: startedAt.plus({ seconds: 4 }),
    endedAt: startedAt.plus({ seconds: 4 + duration }),
    durationSeconds: duration,
    sipStatus: 200,
    disconnectCause: 'answered_normal',
    hungUpBy: 'caller',
    ...fields,
  })
}

async function stored(record: CallRecord) {
  const row = await db.from('call_records').where('id', record.id).firstOrFail()
  return {
    costMicro: row.cost_micro === null ? null : Number(row.cost_micro),
    costCents: row.cost_cents,
    rating: row.rating,
    rated: row.rated_at !== null,
  }
}

const GERMANY = {
  validFrom: '2026-01-01T00:00:00Z',
  rates: [
    { prefix: '49', price: 8_900, increment: '60/1' as const },
    { prefix: '4915', price: 99_000, fee: 15_000, increment: '60/60' as const },
  ],
}

test.group('Rating on call:ended', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('an answered outbound call gets its exact cost and whole cents by the rounding rule', async ({
    assert,
  }) => {
    await makePriceList(null, [GERMANY])
    const user = await makeUser('member')
    const landline = await endedCall(user)
    const mobile = await endedCall(user, { calleeNumber: '+4915112345678', durationSeconds: 61 })
    await emitter.emit('call:ended', { record: landline })
    await emitter.emit('call:ended', { record: mobile })

    // 0.89 ct/min, 61 s at 60/1: 8,900 × 61 / 60 = 9,048.33 → 9,049; 0.9049 ct → 1 ct
    assert.deepEqual(await stored(landline), {
      costMicro: 9_049,
      costCents: 1,
      rating: 'priced',
      rated: true,
    })
    // longest prefix 4915: 1.5 ct fee + 2 minutes at 9.9 ct (60/60) = 213,000 → 21 ct
    assert.deepEqual(await stored(mobile), {
      costMicro: 213_000,
      costCents: 21,
      rating: 'priced',
      rated: true,
    })
  })

  test('a repeated call:ended does not rate twice, even when prices changed in between', async ({
    assert,
  }) => {
    await makePriceList(null, [GERMANY])
    const user = await makeUser('member')
    const call = await endedCall(user, { durationSeconds: 120 })
    await emitter.emit('call:ended', { record: call })
    const first = await db.from('call_records').where('id', call.id).firstOrFail()
    assert.equal(Number(first.cost_micro), 17_800)

    await PriceListRate.query().where('prefix', '49').update({ price_per_minute: 50_000 })
    await emitter.emit('call:ended', { record: call })
    await Promise.all([
      emitter.emit('call:ended', { record: call }),
      emitter.emit('call:ended', { record: call }),
    ])
    const again = await db.from('call_records').where('id', call.id).firstOrFail()
    assert.equal(Number(again.cost_micro), 17_800)
    assert.equal(String(again.rated_at), String(first.rated_at))
  })

  test('a call is rated at the prices of the version valid when it started', async ({ assert }) => {
    await makePriceList(null, [
      GERMANY,
      {
        validFrom: '2026-07-01T00:00:00Z',
        rates: [{ prefix: '49', price: 6_000, increment: '60/1' }],
      },
    ])
    const user = await makeUser('member')
    const june = await endedCall(user, {
      durationSeconds: 60,
      startedAt: DateTime.fromISO('2026-06-30T23:59:59Z'),
    })
    const july = await endedCall(user, {
      durationSeconds: 60,
      startedAt: DateTime.fromISO('2026-07-01T00:00:00Z'),
    })
    const before = await endedCall(user, {
      durationSeconds: 60,
      startedAt: DateTime.fromISO('2025-12-31T12:00:00Z'),
    })
    for (const record of [june, july, before]) await emitter.emit('call:ended', { record })
    assert.equal((await stored(june)).costMicro, 8_900)
    assert.equal((await stored(july)).costMicro, 6_000)
    // No version valid yet: not priced, left for staff to see
    assert.deepEqual(await stored(before), {
      costMicro: null,
      costCents: null,
      rating: 'unpriced',
      rated: true,
    })
  })

  test('a company override prices its prefixes; other destinations fall back to the default list', async ({
    assert,
  }) => {
    await makePriceList(null, [
      {
        validFrom: '2026-01-01T00:00:00Z',
        rates: [
          { prefix: '49', price: 8_900 },
          { prefix: '43', price: 20_000 },
        ],
      },
    ])
    const company = await makeCompany()
    const other = await makeUser('member')
    const user = await makeUser('member', company)
    await makePriceList(company.id, [
      { validFrom: '2026-01-01T00:00:00Z', rates: [{ prefix: '49', price: 5_000 }] },
    ])

    const own = await endedCall(user, { durationSeconds: 60 })
    const austria = await endedCall(user, { durationSeconds: 60, calleeNumber: '+43123456' })
    const otherCompany = await endedCall(other, { durationSeconds: 60 })
    for (const record of [own, austria, otherCompany]) await emitter.emit('call:ended', { record })
    assert.equal((await stored(own)).costMicro, 5_000)
    assert.equal((await stored(austria)).costMicro, 20_000)
    assert.equal((await stored(otherCompany)).costMicro, 8_900)
  })

  test('emergency, inbound, echo-test and unanswered calls are free; an unknown destination is unpriced', async ({
    assert,
  }) => {
    await makePriceList(null, [
      { validFrom: '2026-01-01T00:00:00Z', rates: [{ prefix: '', price: 8_900 }] },
    ])
    const user = await makeUser('member')
    const calls = {
      emergency: await endedCall(user, { emergency: true, calleeNumber: '112' }),
      inbound: await endedCall(user, {
        direction: 'inbound',
        callerNumber: '+4930999',
        calleeNumber: '+493011110000',
      }),
      echo: await endedCall(user, { direction: 'echo_test', calleeNumber: '*43' }),
      unanswered: await endedCall(user, {
        answeredAt: null,
        durationSeconds: 0,
        disconnectCause: 'no_answer',
      }),
      shortCode: await endedCall(user, { calleeNumber: '118' }),
    }
    for (const record of Object.values(calls)) await emitter.emit('call:ended', { record })
    for (const name of ['emergency', 'inbound', 'echo', 'unanswered'] as const) {
      assert.deepEqual(
        await stored(calls[name]),
        { costMicro: 0, costCents: 0, rating: 'free', rated: true },
        name
      )
    }
    // A short code answered outbound is not E.164: no prefix can price it
    assert.deepEqual(await stored(calls.shortCode), {
      costMicro: null,
      costCents: null,
      rating: 'unpriced',
      rated: true,
    })
  })
})

/**
 * Issue 17: the rating goes into the CDR's end write (one statement), not an update of its own
 * after call:ended; the listener then only announces the cost, once per CDR.
 */
test.group('Rating with the end write', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  /** An answered call of 61 s at the German prices, call:ended faked until the test restores it. */
  async function answeredCall(cleanup: (handler: () => void) => void) {
    await makePriceList(null, [{ ...GERMANY, validFrom: '2020-01-01T00:00:00Z' }])
    const user = await makeUser('member')
    const cdr = new CdrService()
    const record = await cdr.start({
      ...outboundOf(user),
      region: 'eu',
      nodeId: 'rating-test',
    })
    await cdr.answered(record)
    // 61 s of call, written with the end
    record.answeredAt = record.answeredAt!.minus({ seconds: 61 })
    emitter.fake(['call:ended'])
    cleanup(() => emitter.restore())
    return { cdr, record }
  }

  test('the row is rated when end() returns, with no call:ended listener run', async ({
    assert,
    cleanup,
  }) => {
    const { cdr, record } = await answeredCall(cleanup)
    await cdr.end(record, { cause: 'answered_normal', sipStatus: 200, hungUpBy: 'caller' })

    assert.deepEqual(await stored(record), {
      costMicro: 9_049,
      costCents: 1,
      rating: 'priced',
      rated: true,
    })
    const row = await db.from('call_records').where('id', record.id).firstOrFail()
    assert.equal(row.duration_seconds, 61)
    assert.equal(row.disconnect_cause, 'answered_normal')
  })

  test('the listener announces the cost written with the end once, however often call:ended comes', async ({
    assert,
    cleanup,
  }) => {
    const { cdr, record } = await answeredCall(cleanup)
    await cdr.end(record, { cause: 'answered_normal', sipStatus: 200, hungUpBy: 'caller' })
    emitter.restore()
    const announced: number[] = []
    const count = ({ costMicro }: { costMicro: number }) => void announced.push(costMicro)
    emitter.on('billing:call_rated', count)
    cleanup(() => emitter.off('billing:call_rated', count))

    await emitter.emit('call:ended', { record })
    await emitter.emit('call:ended', { record })
    assert.deepEqual(announced, [9_049])
    assert.equal((await stored(record)).costMicro, 9_049)
  })

  test('a row rated already keeps its rating; the end is written all the same', async ({
    assert,
    cleanup,
  }) => {
    const { cdr, record } = await answeredCall(cleanup)
    await db
      .from('call_records')
      .where('id', record.id)
      .update({ cost_micro: 5, cost_cents: 0, rating: 'priced', rated_at: sqlTime(DateTime.utc()) })
    await cdr.end(record, { cause: 'answered_normal', sipStatus: 200, hungUpBy: 'callee' })

    assert.equal((await stored(record)).costMicro, 5)
    const row = await db.from('call_records').where('id', record.id).firstOrFail()
    assert.equal(row.hung_up_by, 'callee')
    assert.isNotNull(row.ended_at)
  })
})
