import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import testUtils from '@adonisjs/core/services/test_utils'
import type { ApiClient } from '@japa/api-client'
import type User from '#accounts/models/user'
import PhoneNumber from '#calls/models/phone_number'
import PhoneNumberForwarding from '#calls/models/phone_number_forwarding'
import InternalDirectory from '#calls/internal/internal_directory'
import NumberService from '#calls/services/number_service'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { auditMark, auditSince } from '#tests/support/audit'
import { ourNumber } from '#tests/support/calls'
import { fakeCarriers } from '#tests/support/carriers'

/** Every condition's fields as the form sends them: all off unless given. */
function form(fields: Record<string, string> = {}) {
  return {
    always_target: 'off',
    always_number: '',
    busy_target: 'off',
    busy_number: '',
    no_answer_target: 'off',
    no_answer_number: '',
    no_answer_ring_seconds: '20',
    unreachable_target: 'off',
    unreachable_number: '',
    ...fields,
  }
}

async function rulesOf(number: PhoneNumber) {
  const rows = await PhoneNumberForwarding.query()
    .where('phone_number_id', number.id)
    .orderBy('condition')
  return Object.fromEntries(
    rows.map((row) => [row.condition, [row.targetUserId, row.targetNumber, row.ringSeconds]])
  )
}

/** A number of its own per test. */
function freshNumber() {
  return `+49309${String(Math.floor(Math.random() * 9_000_000) + 1_000_000)}`
}

async function office() {
  const company = await makeCompany('active')
  const admin = await makeUser('admin', company)
  const bob = await makeUser('member', company)
  const number = await ourNumber(freshNumber(), 'eu_alpha', company)
  return { company, admin, bob, number }
}

function put(client: ApiClient, number: PhoneNumber, user: User, fields: Record<string, string>) {
  return client
    .put(`/app/numbers/${number.id}/forwarding`)
    .form(form(fields))
    .withCsrfToken()
    .loginAs(user)
    .redirects(0)
}

test.group('Number forwarding: the company admins set it on the numbers page', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => fakeCarriers())

  test('sets each condition, to a colleague or an external number; changes and clears them; each save audited; the numbers page lists them', async ({
    client,
    assert,
  }) => {
    const { company, admin, bob, number } = await office()
    const mark = await auditMark()

    const saved = await put(client, number, admin, {
      always_target: 'off',
      busy_target: String(bob.id),
      no_answer_target: 'external',
      no_answer_number: '0171 2345678',
      no_answer_ring_seconds: '15',
      unreachable_target: String(admin.id),
    })
    saved.assertStatus(302)
    saved.assertHeader('location', `/app/numbers/${number.id}/forwarding`)
    saved.assertFlashMessage('notice', 'Rufumleitung gespeichert.')
    assert.deepEqual(await rulesOf(number), {
      busy: [bob.id, null, null],
      no_answer: [null, '+491712345678', 15],
      unreachable: [admin.id, null, null],
    })
    // What calls apply: the no-answer time and the admin who set it
    const applied = await new InternalDirectory().numberForwardingOf(number.id)
    assert.equal(applied.get('no_answer')!.ringSeconds, 15)
    assert.equal(applied.get('busy')!.setByUserId, admin.id)

    const list = await client.get('/app/numbers').loginAs(admin)
    list.assertStatus(200)
    const html = list.text()
    assert.include(html, '<th>Weiterleitung</th>')
    assert.include(html, `href="/app/numbers/${number.id}/forwarding"`)
    assert.match(html, new RegExp(`data-condition="busy">Bei besetzt: ${bob.fullName}`))
    assert.match(html, /data-condition="no_answer">Wenn nicht angenommen: [^<]*\(nach 15 s\)/)

    const page = await client
      .get(`/app/numbers/${number.id}/forwarding`)
      .header('accept-language', 'en')
      .loginAs(admin)
    page.assertStatus(200)
    const en = page.text()
    assert.include(en, 'Forwarding of')
    assert.match(en, new RegExp(`<option value="${bob.id}" selected>`))
    assert.match(en, /name="no_answer_number" type="tel" value="\+491712345678"/)
    assert.match(en, /name="no_answer_ring_seconds" type="number" value="15"/)
    assert.include(en, 'How long the number rings')
    assert.notInclude(en, 'translation missing')

    // Changed: always to an external number, busy off; the rest as it was
    const changed = await put(client, number, admin, {
      always_target: 'external',
      always_number: '+49 30 1234567',
      no_answer_target: 'external',
      no_answer_number: '0171 2345678',
      no_answer_ring_seconds: '15',
      unreachable_target: String(admin.id),
    })
    changed.assertStatus(302)
    assert.deepEqual(await rulesOf(number), {
      always: [null, '+49301234567', null],
      no_answer: [null, '+491712345678', 15],
      unreachable: [admin.id, null, null],
    })

    const cleared = await put(client, number, admin, {})
    cleared.assertStatus(302)
    assert.deepEqual(await rulesOf(number), {})

    const entries = await auditSince(mark)
      .where('action', 'calls.number_forwarding.updated')
      .orderBy('id')
    assert.lengthOf(entries, 3)
    assert.equal(entries[0].targetType, 'phone_number')
    assert.equal(entries[0].targetId, number.number)
    assert.equal(entries[0].companyId, company.id)
    assert.deepEqual(entries[0].details, {
      before: {},
      after: {
        busy: `user ${bob.id}`,
        no_answer: '+491712345678, 15 s',
        unreachable: `user ${admin.id}`,
      },
    })
    assert.deepEqual(entries[2].details!.after, {})

    // The audit page names the action in German
    const audit = await client.get('/app/audit').loginAs(admin)
    assert.include(audit.text(), 'Rufumleitung einer Rufnummer geändert')
  })

  test('{0}: refused next to the field; nothing saved, nothing audited')
    .with([
      ['an emergency number', 'always_number', '112', 'Notrufnummern (110, 112)'],
      ['+49 110', 'always_number', '+49 110', 'Notrufnummern (110, 112)'],
      ['a service number', 'always_number', '116116', 'Servicenummern'],
      ['an invalid number', 'always_number', 'hello', 'keine gültige Rufnummer'],
      ['a colleague of another company', 'busy_target', 'other', 'aktive Kollegin'],
      ['a staff member', 'busy_target', 'staff', 'aktive Kollegin'],
      ['4 seconds', 'no_answer_ring_seconds', '4', 'von 5 bis 120 Sekunden'],
      ['121 seconds', 'no_answer_ring_seconds', '121', 'von 5 bis 120 Sekunden'],
    ])
    .run(async ({ client, assert }, [, field, value, message]) => {
      const { admin, number } = await office()
      let fields: Record<string, string>
      if (field === 'busy_target') {
        const other =
          value === 'other'
            ? await makeUser('member', await makeCompany('active'))
            : await makeUser('support')
        fields = { busy_target: String(other.id) }
      } else if (field === 'always_number') {
        fields = { always_target: 'external', always_number: value }
      } else {
        fields = {
          no_answer_target: 'external',
          no_answer_number: '030 1234567',
          no_answer_ring_seconds: value,
        }
      }
      // A valid rule sent with it is not saved either
      fields.unreachable_target = String(admin.id)
      const mark = await auditMark()

      const refused = await put(client, number, admin, fields)
      refused.assertStatus(302)
      refused.assertHeader('location', `/app/numbers/${number.id}/forwarding`)
      const errors = refused.flashMessages().errorsBag as Record<string, string>
      assert.deepEqual(Object.keys(errors), [field])
      assert.include(errors[field], message)

      const page = await client
        .get(`/app/numbers/${number.id}/forwarding`)
        .withFlashMessages(refused.flashMessages())
        .loginAs(admin)
      page.assertStatus(200)
      assert.match(page.text(), new RegExp(`data-error-for="${field}">\\s*<span>[^<]*`))
      assert.include(page.text(), 'Rufumleitung wurde nicht gespeichert')

      assert.deepEqual(await rulesOf(number), {})
      assert.lengthOf(await auditSince(mark).where('action', 'calls.number_forwarding.updated'), 0)
    })

  test('only the company admins: a member gets 403, another company’s number is not found', async ({
    client,
    assert,
  }) => {
    const { admin, bob, number } = await office()
    const member = await client.get(`/app/numbers/${number.id}/forwarding`).loginAs(bob)
    member.assertStatus(403)
    const memberPut = await put(client, number, bob, { always_target: String(admin.id) })
    memberPut.assertStatus(403)
    assert.deepEqual(await rulesOf(number), {})

    const stranger = await makeUser('admin', await makeCompany('active'))
    const foreign = await client.get(`/app/numbers/${number.id}/forwarding`).loginAs(stranger)
    foreign.assertStatus(404)
    const foreignPut = await put(client, number, stranger, { always_target: 'off' })
    foreignPut.assertStatus(404)
    assert.deepEqual(await rulesOf(number), {})
  })

  test('a released number loses its rules; a number given to a user keeps them', async ({
    client,
    assert,
  }) => {
    const { company, admin, bob, number } = await office()
    await put(client, number, admin, {
      busy_target: String(bob.id),
      unreachable_target: 'external',
      unreachable_number: '030 1234567',
    }).then((response) => response.assertStatus(302))
    assert.lengthOf(Object.keys(await rulesOf(number)), 2)

    const service = await app.container.make(NumberService)
    await service.assignUser(company, number.id, bob.id, { actor: admin, ip: null })
    assert.lengthOf(Object.keys(await rulesOf(number)), 2)

    await service.release([number.number], { actor: null, ip: null })
    assert.deepEqual(await rulesOf(number), {})
    const row = await PhoneNumber.findOrFail(number.id)
    assert.isNull(row.companyId)
  })

  test('the rules are personal data: in the record of processing and the export of the colleague they name', async ({
    assert,
  }) => {
    const { processingRecord } = await import('#privacy/services/processing_record')
    const { default: DataExportService } = await import('#privacy/services/data_export_service')
    assert.include(
      processingRecord().processor.map((activity) => activity.key),
      'calls.phone_number_forwardings'
    )
    const { company, admin, bob, number } = await office()
    await PhoneNumberForwarding.create({
      phoneNumberId: number.id,
      companyId: number.companyId!,
      condition: 'busy',
      targetUserId: bob.id,
      targetNumber: null,
      ringSeconds: null,
      setByUserId: admin.id,
    })
    const exported = async (user: User) =>
      ((await new DataExportService().collect(user)).files.get('phone_number_forwardings') ?? [])
        .length
    assert.equal(await exported(bob), 1)
    assert.equal(await exported(admin), 1)
    const carol = await makeUser('member', company)
    assert.equal(await exported(carol), 0)
  })
})
