import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import db from '@adonisjs/lucid/services/db'
import testUtils from '@adonisjs/core/services/test_utils'
import type Company from '#accounts/models/company'
import type User from '#accounts/models/user'
import { carriers, defineConfig } from '#calls/carriers/define_config'
import DefaultCallerId from '#calls/models/default_caller_id'
import PhoneNumber from '#calls/models/phone_number'
import NumberService from '#calls/services/number_service'
import { expandNumberBlock, NumberBlockError } from '#calls/services/number_block'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { auditMark, auditSince } from '#tests/support/audit'
import {
  euCarrierProfile,
  euSubProcessor,
  fakeCarriers,
  testCarriersConfig,
} from '#tests/support/carriers'
import { enableTwoFactor } from '#tests/support/two_factor'

async function staff(role: 'superadmin' | 'support' | 'fraud_analyst' = 'superadmin') {
  const user = await makeUser(role)
  await enableTwoFactor(user)
  return user
}

/** A block base of its own per test (8 digits after +49301 leave room for a 1-digit suffix). */
function base() {
  return `+49301${String(Math.floor(Math.random() * 90000) + 10000)}`
}

async function numbersOf(prefix: string) {
  return PhoneNumber.query().where('number', 'like', `${prefix}%`).orderBy('number')
}

async function importBlock(admin: User, start: string, count: number, carrier = 'eu_alpha') {
  const service = await app.container.make(NumberService)
  await service.import(carrier, expandNumberBlock({ numbers: start, count }), {
    actor: admin,
    ip: '127.0.0.1',
  })
}

async function assignBlock(admin: User, start: string, count: number, company: Company) {
  const service = await app.container.make(NumberService)
  await service.assignToCompany(expandNumberBlock({ numbers: start, count }), company.id, {
    actor: admin,
    ip: '127.0.0.1',
  })
}

test.group('Number blocks', () => {
  test('a start number with a count, a range, and a single number expand to E.164 numbers', ({
    assert,
  }) => {
    assert.deepEqual(expandNumberBlock({ numbers: '+4930123450', count: 3 }), [
      '+4930123450',
      '+4930123451',
      '+4930123452',
    ])
    assert.deepEqual(expandNumberBlock({ numbers: '+49 30 1234598-+49 30 1234601' }), [
      '+49301234598',
      '+49301234599',
      '+49301234600',
      '+49301234601',
    ])
    assert.deepEqual(expandNumberBlock({ numbers: '4930123450' }), ['+4930123450'])
    assert.lengthOf(expandNumberBlock({ numbers: '+4930120000', count: 1000 }), 1000)
  })

  test('bad blocks name the problem and the field', ({ assert }) => {
    const problem = (input: { numbers: string; count?: number }) => {
      try {
        expandNumberBlock(input)
      } catch (error) {
        if (error instanceof NumberBlockError) return `${error.field}:${error.code}`
        throw error
      }
      return 'accepted'
    }
    assert.equal(problem({ numbers: '030 123450' }), 'numbers:invalid_number')
    assert.equal(problem({ numbers: '+0301234' }), 'numbers:invalid_number')
    assert.equal(problem({ numbers: '+4930123450123456' }), 'numbers:invalid_number')
    assert.equal(problem({ numbers: '+4930123459-+4930123450' }), 'numbers:range_reversed')
    assert.equal(problem({ numbers: '+4930123450-+493012345' }), 'numbers:range_length_mismatch')
    assert.equal(problem({ numbers: '+4930123450-abc' }), 'numbers:invalid_range_end')
    assert.equal(problem({ numbers: '+4930120000-+4930121000' }), 'numbers:block_too_large')
    assert.equal(problem({ numbers: '+4930120000', count: 1001 }), 'count:block_too_large')
    assert.equal(
      problem({ numbers: '+4930120000-+4930120005', count: 3 }),
      'count:count_with_range'
    )
    assert.equal(problem({ numbers: '+9999999998', count: 3 }), 'count:block_crosses_length')
  })
})

test.group('Numbers: staff', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => fakeCarriers())

  test('importing a block creates every number once and writes one audit entry', async ({
    client,
    assert,
  }) => {
    const admin = await staff()
    const start = base() + '0'
    const mark = await auditMark()
    const response = await client
      .post('/admin/numbers/import')
      .form({ carrier: 'eu_alpha', numbers: start, count: '10' })
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    response.assertStatus(302)
    response.assertFlashMessage('notice', '10 Rufnummern importiert.')
    const rows = await numbersOf(start.slice(0, -1))
    assert.lengthOf(rows, 10)
    assert.isTrue(rows.every((row) => row.carrierName === 'eu_alpha' && row.companyId === null))
    const entries = await auditSince(mark).where('action', 'number.imported')
    assert.lengthOf(entries, 1)
    assert.equal(entries[0].actorId, admin.id)
    assert.deepInclude(entries[0].details as object, {
      count: 10,
      first: start,
      carrier: 'eu_alpha',
    })
  })

  test('an import that overlaps existing numbers is refused as a whole, with the numbers named', async ({
    client,
    assert,
  }) => {
    const admin = await staff()
    const prefix = base()
    await importBlock(admin, `${prefix}5`, 2)
    const response = await client
      .post('/admin/numbers/import')
      .form({ carrier: 'eu_alpha', numbers: `${prefix}0-${prefix}9` })
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    response.assertStatus(302)
    assert.equal(response.header('location'), '/admin/numbers/import')
    const message = String(response.flashMessage('errorsBag.numbers'))
    assert.include(message, `${prefix}5, ${prefix}6`)
    assert.lengthOf(await numbersOf(prefix), 2, 'nothing of the overlapping block was imported')

    const form = await client
      .get('/admin/numbers/import')
      .withFlashMessages(response.flashMessages())
      .loginAs(admin)
    assert.match(form.text(), /data-error-for="numbers"/)
  })

  test('bad input comes back next to its field: format, block size, unknown carrier', async ({
    client,
    assert,
  }) => {
    const admin = await staff()
    const post = (form: Record<string, string>) =>
      client.post('/admin/numbers/import').form(form).withCsrfToken().loginAs(admin).redirects(0)

    const badNumber = await post({ carrier: 'eu_alpha', numbers: '030 1234' })
    assert.include(String(badNumber.flashMessage('errorsBag.numbers')), 'E.164')

    const tooMany = await post({ carrier: 'eu_alpha', numbers: '+4930120000', count: '1001' })
    assert.properties(tooMany.flashMessages().inputErrorsBag, ['count'])

    const hugeRange = await post({ carrier: 'eu_alpha', numbers: '+4930120000-+4930129999' })
    assert.equal(
      hugeRange.flashMessage('errorsBag.numbers'),
      'Höchstens 1.000 Rufnummern auf einmal.'
    )

    const carrier = await post({ carrier: 'no_such_carrier', numbers: '+4930120000' })
    assert.equal(
      carrier.flashMessage('errorsBag.carrier'),
      'Bitte einen konfigurierten Carrier wählen.'
    )

    const empty = await post({ carrier: 'eu_alpha', numbers: '' })
    assert.deepEqual((empty.flashMessages().inputErrorsBag as Record<string, string[]>).numbers, [
      'Bitte ausfüllen.',
    ])
    assert.isNull(await PhoneNumber.findBy('number', '+4930120000'))
  })

  test('a number belongs to at most one company: the second assignment fails and changes nothing', async ({
    client,
    assert,
  }) => {
    const admin = await staff()
    const prefix = base()
    await importBlock(admin, `${prefix}0`, 5)
    const first = await makeCompany('active')
    const second = await makeCompany('active')
    const mark = await auditMark()

    const assigned = await client
      .post('/admin/numbers/assign')
      .form({ company_id: String(first.id), numbers: `${prefix}0`, count: '3' })
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    assigned.assertFlashMessage('notice', '3 Rufnummern zugewiesen.')
    const entry = await auditSince(mark).where('action', 'number.assigned').firstOrFail()
    assert.equal(entry.companyId, first.id, 'the company sees the assignment in its audit log')

    // Overlaps the first company's block by one number
    const conflict = await client
      .post('/admin/numbers/assign')
      .form({ company_id: String(second.id), numbers: `${prefix}2-${prefix}4` })
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    assert.equal(conflict.header('location'), '/admin/numbers/assign')
    assert.include(String(conflict.flashMessage('errorsBag.numbers')), `${prefix}2`)
    const rows = await numbersOf(prefix)
    assert.deepEqual(
      rows.map((row) => row.companyId),
      [first.id, first.id, first.id, null, null],
      'the free numbers of the refused block stay free'
    )

    // The database refuses a second row for the same number
    await assert.rejects(() =>
      db.table('phone_numbers').insert({
        number: `${prefix}0`,
        carrier_name: 'eu_beta',
        created_at: new Date(),
        updated_at: new Date(),
      })
    )
  })

  test('assigning needs an existing, not terminated company in the carrier’s region', async ({
    client,
    assert,
  }) => {
    const admin = await staff()
    const prefix = base()
    await importBlock(admin, `${prefix}0`, 1)
    const terminated = await makeCompany('terminated')
    const elsewhere = await makeCompany('active', { region: 'us' })
    const post = (companyId: number) =>
      client
        .post('/admin/numbers/assign')
        .form({ company_id: String(companyId), numbers: `${prefix}0` })
        .withCsrfToken()
        .loginAs(admin)
        .redirects(0)
    assert.equal(
      (await post(terminated.id)).flashMessage('errorsBag.company_id'),
      'Der Vertrag dieser Firma ist beendet.'
    )
    assert.include(
      String((await post(elsewhere.id)).flashMessage('errorsBag.company_id')),
      'nicht bei einem Carrier der Region'
    )
    assert.equal(
      (await post(999999)).flashMessage('errorsBag.company_id'),
      'Bitte eine Firma wählen.'
    )
    const missing = await client
      .post('/admin/numbers/assign')
      .form({ company_id: String((await makeCompany('active')).id), numbers: `${prefix}9` })
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    assert.equal(missing.flashMessage('errorsBag.numbers'), `Nicht unsere Rufnummer: ${prefix}9.`)
    assert.isNull((await PhoneNumber.findByOrFail('number', `${prefix}0`)).companyId)
  })

  test('releasing clears company, user, assignment time and the default caller ID; nothing personal stays', async ({
    client,
    assert,
  }) => {
    const admin = await staff()
    const prefix = base()
    await importBlock(admin, `${prefix}0`, 2)
    const company = await makeCompany('active')
    await assignBlock(admin, `${prefix}0`, 2, company)
    const owner = await makeUser('owner', company)
    const member = await makeUser('member', company)
    const service = await app.container.make(NumberService)
    const [held, shared] = await numbersOf(prefix)
    await service.assignUser(company, held.id, member.id, { actor: owner, ip: '127.0.0.1' })
    await service.setDefaultCallerId(company, member.id, held.id, { actor: owner, ip: '127.0.0.1' })
    await service.setDefaultCallerId(company, owner.id, shared.id, {
      actor: owner,
      ip: '127.0.0.1',
    })
    const mark = await auditMark()

    const response = await client
      .post(`/admin/numbers/${held.id}/release`)
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    response.assertFlashMessage(
      'notice',
      'Freigegeben; keine Firma und kein Nutzer bleibt verknüpft. Die Rufnummer ruht jetzt in der Sperrfrist.'
    )
    const row = await db.from('phone_numbers').where('id', held.id).firstOrFail()
    assert.isNull(row.company_id)
    assert.isNull(row.user_id)
    assert.isNull(row.assigned_at)
    assert.isNull(await DefaultCallerId.findBy('phone_number_id', held.id))
    assert.isNotNull(
      await DefaultCallerId.findBy('phone_number_id', shared.id),
      'other numbers keep their defaults'
    )
    assert.deepEqual(await service.callerIdsFor(member), [shared.number])
    const entry = await auditSince(mark).where('action', 'number.released').firstOrFail()
    assert.equal(entry.companyId, company.id)

    // A block release over the rest; the already free number in it is fine
    const block = await client
      .post('/admin/numbers/block')
      .form({ action: 'release', numbers: `${prefix}0-${prefix}1` })
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    block.assertFlashMessage(
      'notice',
      'Freigegeben; keine Firma und kein Nutzer bleibt verknüpft. Die Rufnummer ruht jetzt in der Sperrfrist.'
    )
    assert.deepEqual(
      (await numbersOf(prefix)).map((number) => number.companyId),
      [null, null]
    )
    assert.isNull(await DefaultCallerId.findBy('phone_number_id', shared.id))
  })

  test('only free numbers can be deleted', async ({ client, assert }) => {
    const admin = await staff()
    const prefix = base()
    await importBlock(admin, `${prefix}0`, 3)
    await assignBlock(admin, `${prefix}0`, 1, await makeCompany('active'))
    const [taken, free] = await numbersOf(prefix)
    const mark = await auditMark()

    const refused = await client
      .delete(`/admin/numbers/${taken.id}`)
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    assert.include(String(refused.flashMessage('error')), 'schon einer Firma')
    assert.isNotNull(await PhoneNumber.find(taken.id))

    const blockRefused = await client
      .post('/admin/numbers/block')
      .form({ action: 'delete', numbers: `${prefix}0`, count: '3' })
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    assert.isString(blockRefused.flashMessage('errorsBag.numbers'))
    assert.lengthOf(await numbersOf(prefix), 3)

    const deleted = await client
      .delete(`/admin/numbers/${free.id}`)
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    deleted.assertFlashMessage('notice', 'Gelöscht.')
    assert.isNull(await PhoneNumber.find(free.id))
    assert.lengthOf(await auditSince(mark).where('action', 'number.deleted'), 1)
  })

  test('the list filters by carrier, company and free', async ({ client, assert }) => {
    const admin = await staff()
    const prefix = base()
    await importBlock(admin, `${prefix}0`, 2, 'eu_alpha')
    await importBlock(admin, `${prefix}5`, 1, 'eu_beta')
    const company = await makeCompany('active')
    await assignBlock(admin, `${prefix}0`, 1, company)

    const page = async (qs: string) =>
      (await client.get(`/admin/numbers?${qs}`).loginAs(admin)).text()
    const byCompany = await page(`company_id=${company.id}`)
    assert.include(byCompany, `data-number="${prefix}0"`)
    assert.notInclude(byCompany, `data-number="${prefix}1"`)
    assert.include(byCompany, company.legalName)
    const free = await page('free=1&carrier=eu_alpha')
    assert.include(free, `data-number="${prefix}1"`)
    assert.notInclude(free, `data-number="${prefix}0"`)
    assert.notInclude(free, `data-number="${prefix}5"`)
    for (const path of ['/admin/numbers/import', '/admin/numbers/assign', '/admin/numbers/block']) {
      ;(await client.get(path).loginAs(admin)).assertStatus(200)
    }
  })

  test('staff without numbers.manage get 403; support (with it) may; customers never', async ({
    client,
  }) => {
    const analyst = await staff('fraud_analyst')
    ;(await client.get('/admin/numbers').loginAs(analyst)).assertStatus(403)
    const post = await client
      .post('/admin/numbers/import')
      .form({ carrier: 'eu_alpha', numbers: '+4930120000' })
      .withCsrfToken()
      .loginAs(analyst)
      .redirects(0)
    post.assertStatus(403)
    ;(await client.get('/admin/numbers').loginAs(await staff('support'))).assertStatus(200)
    const owner = await makeUser('owner', await makeCompany('active'))
    ;(await client.get('/admin/numbers').loginAs(owner)).assertStatus(403)
  })
})

test.group('Numbers: company admins and the B2BUA API', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => fakeCarriers())

  async function companyWithNumbers(count = 3) {
    const admin = await staff()
    const prefix = base()
    const company = await makeCompany('active')
    await importBlock(admin, `${prefix}0`, count)
    await assignBlock(admin, `${prefix}0`, count, company)
    return { company, prefix, rows: await numbersOf(prefix) }
  }

  test('an admin gives a number to a user, audited; callerIdsFor: own numbers first, then shared ones', async ({
    client,
    assert,
  }) => {
    const { company, rows } = await companyWithNumbers(3)
    const admin = await makeUser('admin', company)
    const alice = await makeUser('member', company)
    const bob = await makeUser('member', company)
    const mark = await auditMark()

    const response = await client
      .put(`/app/numbers/${rows[2].id}/user`)
      .form({ user_id: String(alice.id) })
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    response.assertFlashMessage('notice', 'Gespeichert.')
    assert.equal((await PhoneNumber.findOrFail(rows[2].id)).userId, alice.id)
    const entry = await auditSince(mark).where('action', 'number.user_assigned').firstOrFail()
    assert.equal(entry.companyId, company.id)

    const service = await app.container.make(NumberService)
    assert.deepEqual(await service.callerIdsFor(alice), [
      rows[2].number,
      rows[0].number,
      rows[1].number,
    ])
    assert.deepEqual(
      await service.callerIdsFor(bob),
      [rows[0].number, rows[1].number],
      'never a colleague’s number'
    )
    assert.equal(
      await service.defaultCallerId(alice),
      rows[2].number,
      'without a choice: the first own number'
    )
    assert.equal(await service.defaultCallerId(bob), rows[0].number)

    const page = await client.get('/app/numbers').loginAs(admin)
    page.assertStatus(200)
    assert.include(page.text(), rows[2].number)
    assert.include(page.text(), alice.fullName)

    // Back to shared
    await client
      .put(`/app/numbers/${rows[2].id}/user`)
      .form({ user_id: '' })
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    assert.isNull((await PhoneNumber.findOrFail(rows[2].id)).userId)
  })

  test('the default caller ID is one the user may present; giving it to a colleague drops the choice', async ({
    client,
    assert,
  }) => {
    const { company, rows } = await companyWithNumbers(2)
    const owner = await makeUser('owner', company)
    const alice = await makeUser('member', company)
    const bob = await makeUser('member', company)
    const service = await app.container.make(NumberService)

    const chosen = await client
      .put(`/app/caller-ids/${alice.id}`)
      .form({ phone_number_id: String(rows[1].id) })
      .withCsrfToken()
      .loginAs(owner)
      .redirects(0)
    chosen.assertFlashMessage('notice', 'Gespeichert.')
    assert.equal(await service.defaultCallerId(alice), rows[1].number)

    await service.assignUser(company, rows[0].id, bob.id, { actor: owner, ip: '127.0.0.1' })
    const refused = await client
      .put(`/app/caller-ids/${alice.id}`)
      .form({ phone_number_id: String(rows[0].id) })
      .withCsrfToken()
      .loginAs(owner)
      .redirects(0)
    refused.assertFlashMessage('error', 'Dieser Nutzer darf diese Nummer nicht anzeigen.')
    assert.equal(await service.defaultCallerId(alice), rows[1].number)

    await service.assignUser(company, rows[1].id, bob.id, { actor: owner, ip: '127.0.0.1' })
    assert.isNull(
      await DefaultCallerId.findBy('user_id', alice.id),
      'alice may no longer present it'
    )
    assert.isNull(await service.defaultCallerId(alice))
    assert.deepEqual(await service.callerIdsFor(alice), [])
  })

  test('a member cannot assign; admins touch only their own company’s numbers and users', async ({
    client,
    assert,
  }) => {
    const { company, rows } = await companyWithNumbers(1)
    const member = await makeUser('member', company)
    ;(await client.get('/app/numbers').loginAs(member)).assertStatus(403)
    const memberPut = await client
      .put(`/app/numbers/${rows[0].id}/user`)
      .form({ user_id: String(member.id) })
      .withCsrfToken()
      .loginAs(member)
      .redirects(0)
    memberPut.assertStatus(403)

    const other = await makeCompany('active')
    const otherAdmin = await makeUser('admin', other)
    const foreignNumber = await client
      .put(`/app/numbers/${rows[0].id}/user`)
      .form({ user_id: String(otherAdmin.id) })
      .withCsrfToken()
      .loginAs(otherAdmin)
      .redirects(0)
    foreignNumber.assertFlashMessage('error', 'Diese Rufnummer gehört uns nicht.')

    const admin = await makeUser('admin', company)
    const foreignUser = await client
      .put(`/app/numbers/${rows[0].id}/user`)
      .form({ user_id: String(otherAdmin.id) })
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    foreignUser.assertFlashMessage('error', 'Bitte einen Nutzer Ihrer Firma wählen.')
    const badInput = await client
      .put(`/app/numbers/${rows[0].id}/user`)
      .form({ user_id: 'abc' })
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    assert.properties(badInput.flashMessages().inputErrorsBag, ['user_id'])
    assert.isNull((await PhoneNumber.findOrFail(rows[0].id)).userId)
  })

  test('findByNumber answers inbound routing with or without the plus', async ({ assert }) => {
    const { company, rows } = await companyWithNumbers(1)
    const user = await makeUser('member', company)
    const service = await app.container.make(NumberService)
    await service.assignUser(company, rows[0].id, user.id, { actor: user, ip: '127.0.0.1' })
    const expected = {
      id: rows[0].id,
      number: rows[0].number,
      companyId: company.id,
      userId: user.id,
      carrierName: 'eu_alpha',
    }
    assert.deepEqual(await service.findByNumber(rows[0].number), expected)
    assert.deepEqual(await service.findByNumber(rows[0].number.slice(1)), expected)
    assert.isNull(await service.findByNumber('+4930000000000'))
    assert.isNull(await service.findByNumber('not a number'))
    assert.deepEqual(await service.callerIdsFor(await staff()), [])
  })

  test('numbers of a second region go only to companies of that region', async ({ assert }) => {
    const base2 = testCarriersConfig()
    await fakeCarriers(
      defineConfig({
        ...base2,
        regions: {
          ...base2.regions,
          us: {
            carriers: {
              us_delta: carriers.generic({
                label: 'US Delta',
                profile: euCarrierProfile({ hosts: ['sip.delta.example'] }),
                subProcessor: euSubProcessor('Delta GmbH'),
              }),
            },
          },
        },
      })
    )
    const admin = await staff()
    const prefix = base()
    await importBlock(admin, `${prefix}0`, 1, 'us_delta')
    const service = await app.container.make(NumberService)
    const euCompany = await makeCompany('active')
    await assert.rejects(() => assignBlock(admin, `${prefix}0`, 1, euCompany), 'region_mismatch')
    const usCompany = await makeCompany('active', { region: 'us' })
    await assignBlock(admin, `${prefix}0`, 1, usCompany)
    assert.equal((await service.findByNumber(`${prefix}0`))?.companyId, usCompany.id)
  })
})
