import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import testUtils from '@adonisjs/core/services/test_utils'
import CallRecord from '#calls/models/call_record'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { enableTwoFactor } from '#tests/support/two_factor'

let sequence = 0

/** An ended outbound call of `company` with the worse side's MOS `mos` (null: never measured). */
async function endedCall(
  companyId: number,
  mos: number | null,
  options: { endedHoursAgo?: number; withheld?: boolean; internal?: boolean } = {}
) {
  sequence += 1
  const ended = DateTime.utc().minus({ hours: options.endedHoursAgo ?? 1 })
  return CallRecord.create({
    uuid: `quality-report-${Date.now()}-${sequence}`,
    companyId,
    direction: options.internal ? 'internal' : 'outbound',
    emergency: false,
    callerNumber: '+4930111222333',
    calleeNumber: '+4989123456789',
    callerWithheld: options.withheld ?? false,
    carrierName: 'eu_alpha',
    region: 'eu',
    startedAt: ended.minus({ seconds: 95 }),
    answeredAt: ended.minus({ seconds: 90 }),
    endedAt: ended,
    durationSeconds: 90,
    sipStatus: 200,
    disconnectCause: 'answered_normal',
    hungUpBy: 'caller',
    callerLossPercent: mos === null ? null : 6.5,
    callerJitterMs: mos === null ? null : 12.25,
    callerRttMs: mos === null ? null : 48,
    callerMos: mos,
    calleeLossPercent: mos === null ? null : 0,
    calleeJitterMs: mos === null ? null : 1.5,
    calleeRttMs: null,
    calleeMos: mos === null ? null : 4.4,
    qualityMos: mos,
  } as Partial<CallRecord>)
}

/**
 * Issue 18, call quality: staff see the ended calls with bad audio first, on a list next to the
 * running calls: the last 7 days, fair and poor (MOS below 4.0) only, worst first, numbers
 * shortened as on the live page, a withheld caller not shown.
 */
test.group('Admin: ended calls with poor audio quality', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('fair and poor calls of the last 7 days, worst first; good, unmeasured and older ones left out', async ({
    client,
    assert,
  }) => {
    const admin = await makeUser('superadmin')
    await enableTwoFactor(admin)
    const company = await makeCompany('active', { legalName: 'Qualitäts GmbH' })
    const fair = await endedCall(company.id, 3.81)
    const poor = await endedCall(company.id, 2.14, { withheld: true })
    const good = await endedCall(company.id, 4.38)
    const unmeasured = await endedCall(company.id, null)
    const old = await endedCall(company.id, 1.5, { endedHoursAgo: 8 * 24 })
    const internal = await endedCall(company.id, 3.95, { internal: true })

    const response = await client.get('/admin/calls/quality').loginAs(admin)
    response.assertStatus(200)
    const html = response.text()
    const listed = [...html.matchAll(/data-call-record="(\d+)"/g)].map((match) => Number(match[1]))
    const ours = listed.filter((id) =>
      [fair, poor, good, unmeasured, old, internal].some((record) => record.id === id)
    )
    assert.deepEqual(
      ours,
      [poor.id, fair.id, internal.id],
      'worst first, only fair and poor of the last 7 days'
    )
    assert.include(html, 'Qualitäts GmbH')
    assert.include(html, 'Schlecht')
    assert.include(html, 'Mäßig')
    assert.include(html, '>intern<')
    assert.include(html, 'MOS 2,1')
    assert.include(html, '6,5 % Verlust')
    assert.include(html, 'Laufzeit 48 ms')
    assert.notInclude(html, '+4930111222333', 'numbers are shortened')
    assert.include(html, 'unterdrückt', "the poor call's withheld caller is not shown")
  })

  test('an empty list says so; a page number that is no number is refused', async ({ client }) => {
    const admin = await makeUser('superadmin')
    await enableTwoFactor(admin)
    const page = await client.get('/admin/calls/quality?page=9999').loginAs(admin)
    page.assertStatus(200)
    page.assertTextIncludes('Gespräche mit schlechter Sprachqualität')
    const bad = await client.get('/admin/calls/quality?page=abc').loginAs(admin).redirects(0)
    bad.assertStatus(302)
  })
})
