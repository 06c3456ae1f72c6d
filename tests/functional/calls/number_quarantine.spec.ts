import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import app from '@adonisjs/core/services/app'
import db from '@adonisjs/lucid/services/db'
import testUtils from '@adonisjs/core/services/test_utils'
import type User from '#accounts/models/user'
import PhoneNumber from '#calls/models/phone_number'
import NumberService, { NumberError } from '#calls/services/number_service'
import { expandNumberBlock } from '#calls/services/number_block'
import { NUMBER_QUARANTINE_MONTHS } from '#config/calls'
import AccountEndService from '#privacy/services/account_end_service'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { auditMark, auditSince } from '#tests/support/audit'
import { fakeCarriers } from '#tests/support/carriers'
import { enableTwoFactor } from '#tests/support/two_factor'

function base() {
  return `+49302${String(Math.floor(Math.random() * 90000) + 10000)}`
}

async function staff() {
  const user = await makeUser('superadmin')
  await enableTwoFactor(user)
  return user
}

async function numbersAt(service: NumberService, admin: User, prefix: string, count: number) {
  const numbers = expandNumberBlock({ numbers: `${prefix}0`, count })
  await service.import('eu_alpha', numbers, { actor: admin, ip: '127.0.0.1' })
  return numbers
}

/**
 * Issue 15, account end: a released number rests in quarantine (NUMBER_QUARANTINE_MONTHS, 6 by
 * default) before it can be assigned again, so calls meant for its old holder do not reach a new
 * one; a terminated company's numbers are released at account end; a port-out is a staff
 * workflow (noted, then completed: the number leaves the inventory), audited. Injected clock.
 */
test.group('Numbers: quarantine and port-out', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => fakeCarriers())
  group.each.teardown(() => app.container.restore(NumberService))

  test('a released number is refused for assignment until its quarantine ends; staff see it', async ({
    client,
    assert,
  }) => {
    assert.equal(NUMBER_QUARANTINE_MONTHS, 6)
    const admin = await staff()
    const service = await app.container.make(NumberService)
    let now = DateTime.fromISO('2026-03-10T09:00:00Z')
    service.now = () => now
    app.container.swap(NumberService, () => service)
    const prefix = base()
    const [number] = await numbersAt(service, admin, prefix, 1)
    const first = await makeCompany('active')
    const second = await makeCompany('active')
    const actor = { actor: admin, ip: '127.0.0.1' }
    await service.assignToCompany([number], first.id, actor)
    await service.release([number], actor)
    const row = await PhoneNumber.findByOrFail('number', number)
    assert.equal(row.quarantinedUntil!.toMillis(), Date.parse('2026-09-10T09:00:00Z'))

    now = DateTime.fromISO('2026-09-10T08:59:00Z')
    try {
      await service.assignToCompany([number], second.id, actor)
      assert.fail('quarantined')
    } catch (error) {
      assert.instanceOf(error, NumberError)
      assert.equal((error as NumberError).code, 'quarantined')
    }
    // Through the form: the message names the number
    const refused = await client
      .post('/admin/numbers/assign')
      .form({ numbers: number, company_id: second.id })
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    refused.assertStatus(302)
    assert.include(String(refused.flashMessage('errorsBag.numbers')), 'Sperrfrist')
    assert.include(String(refused.flashMessage('errorsBag.numbers')), number)
    const list = await client.get(`/admin/numbers?free=1`).loginAs(admin)
    assert.match(list.text(), new RegExp(`data-number="\\${number}"[\\s\\S]*?Sperrfrist bis`))
    assert.isNull((await PhoneNumber.findByOrFail('number', number)).companyId)

    now = DateTime.fromISO('2026-09-10T09:00:01Z')
    await service.assignToCompany([number], second.id, actor)
    const assigned = await PhoneNumber.findByOrFail('number', number)
    assert.equal(assigned.companyId, second.id)
    assert.isNull(assigned.quarantinedUntil)
  })

  test('at account end a terminated company’s numbers go back into quarantine', async ({
    assert,
  }) => {
    const admin = await staff()
    const service = await app.container.make(NumberService)
    const prefix = base()
    const numbers = await numbersAt(service, admin, prefix, 2)
    const company = await makeCompany('active')
    await service.assignToCompany(numbers, company.id, { actor: admin, ip: '127.0.0.1' })
    company.merge({ status: 'terminated', terminatedAt: DateTime.fromISO('2026-06-20T10:00:00Z') })
    await company.save()
    assert.lengthOf(await PhoneNumber.query().where('company_id', company.id), 2, 'kept until then')

    const end = DateTime.fromISO('2026-07-25T00:00:00Z')
    await new AccountEndService().end(company.id, end)
    const rows = await PhoneNumber.query().whereIn('number', numbers)
    assert.deepEqual(
      rows.map((row) => row.companyId),
      [null, null]
    )
    for (const row of rows)
      assert.equal(row.quarantinedUntil!.toMillis(), end.plus({ months: 6 }).toMillis())
  })

  test('port-out: staff note it, then complete it; the number leaves the inventory, audited', async ({
    client,
    assert,
  }) => {
    const admin = await staff()
    const service = await app.container.make(NumberService)
    const prefix = base()
    const [number] = await numbersAt(service, admin, prefix, 1)
    const company = await makeCompany('active')
    await service.assignToCompany([number], company.id, { actor: admin, ip: '127.0.0.1' })
    const row = await PhoneNumber.findByOrFail('number', number)
    const mark = await auditMark()

    const early = await client
      .post(`/admin/numbers/${row.id}/port-out/complete`)
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    early.assertFlashMessage(
      'error',
      'Für diese Rufnummer ist keine Portierung vermerkt; erst vermerken, dann abschließen.'
    )
    ;(
      await client
        .post(`/admin/numbers/${row.id}/port-out`)
        .withCsrfToken()
        .loginAs(admin)
        .redirects(0)
    ).assertFlashMessage('notice', 'Portierung zu einem anderen Anbieter vermerkt.')
    const list = await client.get(`/admin/numbers?company_id=${company.id}`).loginAs(admin)
    assert.include(list.text(), 'Portierung beantragt am')
    ;(
      await client
        .post(`/admin/numbers/${row.id}/port-out/complete`)
        .withCsrfToken()
        .loginAs(admin)
        .redirects(0)
    ).assertFlashMessage(
      'notice',
      'Portierung abgeschlossen; die Rufnummer ist nicht mehr in unserem Bestand.'
    )
    assert.isNull(await db.from('phone_numbers').where('number', number).first())
    const actions = (await auditSince(mark)).map((entry: any) => entry.action)
    assert.includeMembers(actions, ['number.port_out_requested', 'number.port_out_completed'])
  })
})
