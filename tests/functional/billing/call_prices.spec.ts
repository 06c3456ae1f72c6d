import { randomUUID } from 'node:crypto'
import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import emitter from '@adonisjs/core/services/emitter'
import { DateTime } from 'luxon'
import type User from '#accounts/models/user'
import CallRecord from '#calls/models/call_record'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { makePriceList } from '#tests/support/billing'
import '#calls/events'

/** Customers see the price of each call in their call history once billing rated it. */

async function call(user: User, fields: Partial<CallRecord>) {
  const startedAt = DateTime.utc().minus({ minutes: 10 })
  return CallRecord.create({
    uuid: randomUUID(),
    companyId: user.companyId,
    userId: user.id,
    direction: 'outbound',
    emergency: false,
    callerNumber: '+493011110000',
    calleeNumber: '+4930123456',
    callerWithheld: false,
    startedAt,
    answeredAt: startedAt.plus({ seconds: 3 }),
    endedAt: startedAt.plus({ seconds: 64 }),
    durationSeconds: 61,
    sipStatus: 200,
    disconnectCause: 'answered_normal',
    hungUpBy: 'caller',
    ...fields,
  })
}

function priceCell(html: string, uuid: string) {
  const row = new RegExp(`<tr data-call="${uuid}"[\\s\\S]*?</tr>`).exec(html)?.[0] ?? ''
  return /<td class="price" data-cost="([^"]*)">\s*([^<]*?)\s*<\/td>/.exec(row)?.slice(1) ?? null
}

test.group('Call prices in the call history', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('a rated call shows its exact price in the page’s language; an unrated one says so', async ({
    client,
    assert,
  }) => {
    await makePriceList(null, [
      {
        validFrom: '2026-01-01T00:00:00Z',
        rates: [{ prefix: '49', price: 8_900, increment: '60/1' }],
      },
    ])
    const member = await makeUser('member', await makeCompany('active'))
    const rated = await call(member, {})
    const emergency = await call(member, { emergency: true, calleeNumber: '112' })
    const pending = await call(member, { calleeNumber: '+4930999999' })
    await emitter.emit('call:ended', { record: rated })
    await emitter.emit('call:ended', { record: emergency })

    const german = (await client.get('/app/calls').loginAs(member)).text()
    assert.include(german, '<th>Preis</th>')
    assert.deepEqual(priceCell(german, rated.uuid), ['9049', '0,9049 ct'])
    assert.deepEqual(priceCell(german, emergency.uuid), ['0', '0,00 ct'])
    assert.deepEqual(priceCell(german, pending.uuid), ['', 'offen'])

    member.locale = 'en'
    await member.save()
    const english = (
      await client.get('/app/calls').loginAs(member).header('accept-language', 'en')
    ).text()
    assert.deepEqual(priceCell(english, rated.uuid), ['9049', '0.9049 ct'])
    assert.deepEqual(priceCell(english, pending.uuid), ['', 'pending'])
  })
})
