import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import testUtils from '@adonisjs/core/services/test_utils'
import type Company from '#accounts/models/company'
import type User from '#accounts/models/user'
import CallRecord from '#calls/models/call_record'
import CallDataRetentionJob from '#calls/jobs/call_data_retention_job'
import CallRecordHold from '#privacy/models/call_record_hold'
import { finishedCdr } from '#tests/support/calls'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { auditMark, auditSince } from '#tests/support/audit'
import { enableTwoFactor } from '#tests/support/two_factor'

const cdr = (company: Company, user: User, startedAt: DateTime) =>
  finishedCdr(company, user, startedAt)

/**
 * TDDDG § 10: a company's call records of a disputed period outlive the six months while a hold is
 * open, and go with the next retention run once it is released; other companies' records and
 * other periods are not held.
 */
test.group('Privacy: call records held for billing disputes', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('the retention job keeps the held period of that company until the hold is released', async ({
    client,
    assert,
  }) => {
    const officer = await makeUser('privacy_officer')
    await enableTwoFactor(officer)
    const disputing = await makeCompany('active')
    const other = await makeCompany('active')
    const caller = await makeUser('member', disputing)
    const otherCaller = await makeUser('member', other)
    const disputedDay = DateTime.utc().minus({ months: 7 }).set({ hour: 11 })
    const held = await cdr(disputing, caller, disputedDay)
    const older = await cdr(disputing, caller, disputedDay.minus({ days: 20 }))
    const othersSameDay = await cdr(other, otherCaller, disputedDay)
    const mark = await auditMark()

    const placed = await client
      .post('/admin/privacy/holds')
      .form({
        company_id: String(disputing.id),
        from_day: disputedDay.minus({ days: 2 }).setZone('Europe/Berlin').toISODate(),
        until_day: disputedDay.plus({ days: 2 }).setZone('Europe/Berlin').toISODate(),
        reason: 'Beanstandung der Rechnung vom Vormonat',
      })
      .withCsrfToken()
      .loginAs(officer)
      .redirects(0)
    placed.assertStatus(302)

    await new CallDataRetentionJob().handle()
    assert.isNotNull(await CallRecord.find(held.id), 'the disputed period is held')
    assert.isNull(await CallRecord.find(older.id), 'outside the period: deleted')
    assert.isNull(await CallRecord.find(othersSameDay.id), 'another company: deleted')

    const row = await CallRecordHold.findByOrFail('company_id', disputing.id)
    const page = await client.get('/admin/privacy/holds').loginAs(officer)
    assert.include(page.text(), `data-id="${row.id}" data-state="open"`)
    await client.put(`/admin/privacy/holds/${row.id}/release`).withCsrfToken().loginAs(officer)
    await new CallDataRetentionJob().handle()
    assert.isNull(await CallRecord.find(held.id), 'released: deleted with the next run')
    const actions = (await auditSince(mark)).map((entry: any) => entry.action)
    assert.includeMembers(actions, [
      'privacy.call_record_hold.placed',
      'privacy.call_record_hold.released',
    ])
  })
})
