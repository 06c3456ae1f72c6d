import { randomUUID } from 'node:crypto'
import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import app from '@adonisjs/core/services/app'
import testUtils from '@adonisjs/core/services/test_utils'
import type Company from '#accounts/models/company'
import User from '#accounts/models/user'
import CallRecord from '#calls/models/call_record'
import InternalLine from '#calls/models/internal_line'
import InternalDirectory from '#calls/internal/internal_directory'
import InternalLineService from '#calls/internal/internal_line_service'
import NumberService from '#calls/services/number_service'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { auditMark, auditSince } from '#tests/support/audit'
import { ourNumber } from '#tests/support/calls'

/** A block base of its own per test: +4930 and 6 digits (ending in 5, so no suffix reads as 1xx). */
function blockBase() {
  return `+4930${String(Math.floor(Math.random() * 90000) + 10000)}5`
}

/** `count` numbers of the company from base+"20" on (a block of ten: -20 … -29). */
async function numberBlock(company: Company, count = 10) {
  const base = blockBase()
  for (let index = 0; index < count; index++)
    await ourNumber(`${base}${20 + index}`, 'trunk', company)
  return base
}

async function setExtension(company: Company, userId: number, extension: string) {
  const admin = await makeUser('admin', company)
  return new InternalLineService().setExtension(company, userId, extension, {
    actor: admin,
    ip: '127.0.0.1',
  })
}

test.group('Extensions: the company admin chooses them', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('an admin sets, changes and clears an extension; each change audited with before and after', async ({
    client,
    assert,
  }) => {
    const company = await makeCompany('active')
    const admin = await makeUser('admin', company)
    const alice = await makeUser('member', company)
    const mark = await auditMark()

    const set = await client
      .put(`/app/extensions/${alice.id}`)
      .form({ extension: ' 23 ' })
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    set.assertFlashMessage('notice', 'Durchwahl gespeichert.')
    assert.equal((await InternalLine.findOrFail(alice.id)).extension, '23')

    await client
      .put(`/app/extensions/${alice.id}`)
      .form({ extension: '24' })
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    await client
      .put(`/app/extensions/${alice.id}`)
      .form({ extension: '' })
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    assert.isNull((await InternalLine.findOrFail(alice.id)).extension)

    const entries = await auditSince(mark).where('action', 'extension.changed').orderBy('id')
    assert.deepEqual(
      entries.map((entry) => [entry.details, entry.actorId, entry.companyId, entry.targetId]),
      [
        [{ before: null, after: '23' }, admin.id, company.id, String(alice.id)],
        [{ before: '23', after: '24' }, admin.id, company.id, String(alice.id)],
        [{ before: '24', after: null }, admin.id, company.id, String(alice.id)],
      ]
    )

    await new InternalLineService().setExtension(company, alice.id, '31', {
      actor: admin,
      ip: null,
    })
    const page = await client.get('/app/numbers').loginAs(admin)
    page.assertStatus(200)
    assert.match(page.text(), new RegExp(`id="extension-${alice.id}" name="extension" value="31"`))
  })

  test('{0}: refused with a message next to the field, nothing saved, nothing audited')
    .with([
      ['110', 'sie beginnt wie die Notrufnummern 110 und 112'],
      ['112', 'sie beginnt wie die Notrufnummern 110 und 112'],
      ['115', 'Behörden- oder Servicenummer'],
      ['1160', 'Behörden- oder Servicenummer'],
      ['1181', 'Behörden- oder Servicenummer'],
      ['*43', 'bitte nur 2 bis 4 Ziffern'],
      ['7', 'bitte nur 2 bis 4 Ziffern'],
      ['12345', 'bitte nur 2 bis 4 Ziffern'],
      ['0815', 'nicht mit 0 beginnen'],
    ])
    .run(async ({ client, assert }, [extension, message]) => {
      const company = await makeCompany('active')
      const admin = await makeUser('admin', company)
      const alice = await makeUser('member', company)
      const mark = await auditMark()
      const response = await client
        .put(`/app/extensions/${alice.id}`)
        .form({ extension })
        .withCsrfToken()
        .loginAs(admin)
        .redirects(0)
      const errors = response.flashMessages().errorsBag as Record<string, string>
      assert.include(errors[`extension_${alice.id}`], message)
      assert.isNull(await InternalLine.find(alice.id))
      assert.equal((await auditSince(mark).where('action', 'extension.changed')).length, 0)
    })

  test('unique per company: a colleague’s extension is refused, another company may use it; English message', async ({
    client,
    assert,
  }) => {
    const company = await makeCompany('active')
    const admin = await makeUser('admin', company)
    const alice = await makeUser('member', company)
    const bob = await makeUser('member', company)
    await setExtension(company, alice.id, '23')

    const taken = await client
      .put(`/app/extensions/${bob.id}`)
      .form({ extension: '23' })
      .header('accept-language', 'en')
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    const errors = taken.flashMessages().errorsBag as Record<string, string>
    assert.equal(errors[`extension_${bob.id}`], 'Extension 23 already belongs to a colleague.')
    assert.isNull(await InternalLine.find(bob.id))

    // The refused value is shown again, with the message next to it.
    const page = await client
      .get('/app/numbers')
      .header('accept-language', 'en')
      .withFlashMessages(taken.flashMessages())
      .loginAs(admin)
    assert.match(
      page.text(),
      new RegExp(
        `id="extension-${bob.id}" name="extension" value="23"[^]*?data-error-for="extension_${bob.id}">Extension 23 already belongs`
      )
    )

    const other = await makeCompany('active')
    const carol = await makeUser('member', other)
    await setExtension(other, carol.id, '23')
    assert.equal((await InternalLine.findOrFail(carol.id)).extension, '23')
  })

  test('members may not choose extensions; admins only for their own company’s users', async ({
    client,
    assert,
  }) => {
    const company = await makeCompany('active')
    const member = await makeUser('member', company)
    const refused = await client
      .put(`/app/extensions/${member.id}`)
      .form({ extension: '23' })
      .withCsrfToken()
      .loginAs(member)
      .redirects(0)
    refused.assertStatus(403)

    const other = await makeCompany('active')
    const otherAdmin = await makeUser('admin', other)
    const foreign = await client
      .put(`/app/extensions/${member.id}`)
      .form({ extension: '23' })
      .withCsrfToken()
      .loginAs(otherAdmin)
      .redirects(0)
    const errors = foreign.flashMessages().errorsBag as Record<string, string>
    assert.property(errors, `extension_${member.id}`)
    assert.isNull(await InternalLine.find(member.id))
  })
})

test.group('Extensions: who a dialled string or a company number reaches', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('an extension reaches its holder; an unknown one nobody; 110, 112 and service codes are never internal', async ({
    assert,
  }) => {
    const company = await makeCompany('active')
    const alice = await makeUser('member', company)
    await setExtension(company, alice.id, '23')
    const directory = new InternalDirectory()

    const byExtension = await directory.resolve(company, '23')
    assert.equal(byExtension?.via, 'extension')
    assert.deepEqual(
      byExtension?.users.map((user) => user.id),
      [alice.id]
    )
    assert.deepEqual((await directory.resolve(company, '24'))?.users, [])
    for (const code of ['110', '112', '115', '*43', '11833'])
      assert.isNull(await directory.resolve(company, code), code)

    const other = await makeCompany('active')
    assert.deepEqual(
      (await directory.resolve(other, '23'))?.users,
      [],
      'another company’s extension'
    )

    alice.disabledAt = alice.createdAt
    await alice.save()
    assert.deepEqual((await directory.resolve(company, '23'))?.users, [], 'disabled users')
  })

  test('a company number: its user; direct dial in a block of ten; else everyone; a foreign number leaves', async ({
    assert,
  }) => {
    const company = await makeCompany('active')
    const alice = await makeUser('member', company)
    const bob = await makeUser('member', company)
    const carol = await makeUser('member', company)
    await setExtension(company, alice.id, '23')
    await setExtension(company, bob.id, '123')
    const base = await numberBlock(company)
    const directory = new InternalDirectory()
    const ids = async (dialled: string) =>
      (await directory.resolve(company, dialled))?.users.map((user) => user.id)

    // Durchwahl: …-23 reaches extension 23, in E.164 and in national form.
    assert.deepEqual(await ids(`${base}23`), [alice.id])
    assert.deepEqual(await ids(`0${base.slice(3)}23`), [alice.id])
    assert.equal((await directory.resolve(company, `${base}23`))?.calleeNumber, `${base}23`)
    // No extension 27: the number rings the whole company.
    const staff = await User.query().where('company_id', company.id)
    const everyone = staff.map((user) => user.id)
    assert.sameMembers((await ids(`${base}27`)) ?? [], everyone)
    // A number assigned to a user rings that user, whatever its suffix.
    const assigned = await ourNumber(`${blockBase()}23`, 'trunk', company, carol.id)
    assert.deepEqual(await ids(assigned.number), [carol.id])
    // A single number is no block: its suffix picks nobody.
    const single = await ourNumber(`${blockBase()}23`, 'trunk', company)
    assert.sameMembers((await ids(single.number)) ?? [], everyone)
    // The longest extension wins: …123 in a block reaches 123, not 23.
    const long = `${blockBase().slice(0, -1)}1`
    for (let index = 0; index < 10; index++)
      await ourNumber(`${long}${20 + index}`, 'trunk', company)
    assert.deepEqual(await ids(`${long}23`), [bob.id])
    // Another company's number, or one nobody holds, leaves the company.
    const other = await makeCompany('active')
    const foreign = await ourNumber(`${blockBase()}23`, 'trunk', other)
    assert.isNull(await directory.resolve(company, foreign.number))
    assert.isNull(await directory.resolve(company, '+4989123456'))
  })

  test('outbound calls show the user’s own number: assigned first, else the direct-dial number', async ({
    assert,
  }) => {
    const company = await makeCompany('active')
    const alice = await makeUser('member', company)
    const bob = await makeUser('member', company)
    const carol = await makeUser('member', company)
    const base = await numberBlock(company)
    await setExtension(company, alice.id, '23')
    const numbers = await app.container.make(NumberService)

    assert.equal(await numbers.defaultCallerId(alice), `${base}23`)
    assert.equal(await numbers.defaultCallerId(carol), `${base}20`, 'no extension: the first one')
    const own = await ourNumber(`${blockBase()}55`, 'trunk', company, bob.id)
    await setExtension(company, bob.id, '25')
    assert.equal(await numbers.defaultCallerId(bob), own.number, 'an assigned number comes first')
    assert.isNull(await new InternalDirectory().directDialNumber(carol))
  })
})

test.group('Extensions: the user’s own line settings and call history', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('the web phone toggles do not disturb (JSON), the settings form sets both; each change audited', async ({
    client,
    assert,
  }) => {
    const company = await makeCompany('active')
    const alice = await makeUser('member', company)
    await setExtension(company, alice.id, '23')
    const mark = await auditMark()

    const initial = await client.get('/app/phone/line').loginAs(alice)
    initial.assertBody({ extension: '23', doNotDisturb: false, callWaiting: true })

    const on = await client
      .put('/app/phone/line')
      .json({ do_not_disturb: true })
      .header('accept', 'application/json')
      .withCsrfToken()
      .loginAs(alice)
    on.assertBody({ extension: '23', doNotDisturb: true, callWaiting: true })
    const line = await new InternalDirectory().settingsOf(alice.id)
    assert.isTrue(line.doNotDisturb)

    // The settings form: an unticked box is absent and means off.
    const form = await client
      .put('/app/phone/line')
      .form({ form: '1', do_not_disturb: '1' })
      .withCsrfToken()
      .loginAs(alice)
      .redirects(0)
    form.assertFlashMessage('notice', 'Die Einstellungen wurden gespeichert.')
    assert.deepInclude(await new InternalDirectory().settingsOf(alice.id), {
      doNotDisturb: true,
      callWaiting: false,
    })

    const entries = await auditSince(mark).where('action', 'phone.settings.changed').orderBy('id')
    assert.deepEqual(
      entries.map((entry) => entry.details),
      [
        {
          before: { doNotDisturb: false, callWaiting: true },
          after: { doNotDisturb: true, callWaiting: true },
        },
        {
          before: { doNotDisturb: true, callWaiting: true },
          after: { doNotDisturb: true, callWaiting: false },
        },
      ]
    )

    const page = await client.get('/app/phone/settings').loginAs(alice)
    assert.include(page.text(), 'Ihre Durchwahl: 23')
    assert.match(page.text(), /id="field-do_not_disturb" value="1" checked/)
    assert.notMatch(page.text(), /id="field-call_waiting" value="1" checked/)
  })

  test('the web phone login carries the extension and do not disturb', async ({
    client,
    assert,
  }) => {
    const company = await makeCompany('active')
    const alice = await makeUser('member', company)
    await setExtension(company, alice.id, '23')
    await new InternalLineService().updateSettings(alice, { doNotDisturb: true }, null)
    const login = await client
      .post('/app/phone/credential')
      .header('accept', 'application/json')
      .withCsrfToken()
      .loginAs(alice)
    login.assertStatus(200)
    assert.equal(login.body().extension, '23')
    assert.isTrue(login.body().doNotDisturb)
  })

  test('an internal call shows in both colleagues’ histories, the other one as the party, in full', async ({
    client,
    assert,
  }) => {
    const company = await makeCompany('active')
    const alice = await makeUser('member', company)
    const bob = await makeUser('member', company)
    const carol = await makeUser('member', company)
    const startedAt = DateTime.utc().minus({ minutes: 5 })
    await CallRecord.create({
      uuid: randomUUID(),
      companyId: company.id,
      userId: alice.id,
      calleeUserId: bob.id,
      direction: 'internal',
      emergency: false,
      callerNumber: '22',
      calleeNumber: '+493012345623',
      callerWithheld: false,
      startedAt,
      answeredAt: startedAt.plus({ seconds: 3 }),
      endedAt: startedAt.plus({ seconds: 63 }),
      durationSeconds: 60,
      sipStatus: 200,
      disconnectCause: 'answered_normal',
      hungUpBy: 'caller',
    })
    const callerView = (await client.get('/app/calls').loginAs(alice)).text()
    assert.include(callerView, '>intern<')
    assert.match(callerView, /\+49 30 12345623|\+493012345623/)
    assert.notInclude(callerView, '12345xxx')
    const calleeView = (await client.get('/app/calls').loginAs(bob)).text()
    assert.include(calleeView, '>intern<')
    assert.match(calleeView, /<span class="number">22<\/span>/)
    const otherView = (await client.get('/app/calls').loginAs(carol)).text()
    assert.notInclude(otherView, '>intern<')
  })
})

test.group('Extensions: the colleague list of the web phone', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('lists the company’s other users with extension and presence; nothing about other companies', async ({
    client,
    assert,
  }) => {
    const company = await makeCompany('active')
    const alice = await makeUser('member', company)
    const bob = await makeUser('member', company)
    await setExtension(company, bob.id, '23')
    await makeUser('member', await makeCompany('active'))

    const response = await client.get('/app/phone/colleagues').loginAs(alice)
    response.assertStatus(200)
    const list = response.body() as Array<{ id: number; extension: string | null; state: string }>
    assert.notInclude(
      list.map((entry) => entry.id),
      alice.id,
      'not oneself'
    )
    const entry = list.find((colleague) => colleague.id === bob.id)
    // Nobody registered a phone in this test: offline, whatever do not disturb says.
    assert.deepInclude(entry, { extension: '23', state: 'offline' })
    assert.isTrue(list.every((colleague) => colleague.state === 'offline'))
    assert.sameMembers(
      list.map((colleague) => colleague.id),
      (await User.query().where('company_id', company.id).whereNot('id', alice.id)).map(
        (user) => user.id
      )
    )
  })
})
