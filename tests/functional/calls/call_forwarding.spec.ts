import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import testUtils from '@adonisjs/core/services/test_utils'
import type Company from '#accounts/models/company'
import type User from '#accounts/models/user'
import CallForwarding from '#calls/models/call_forwarding'
import InternalLineService from '#calls/internal/internal_line_service'
import CallForwardingService from '#calls/internal/call_forwarding_service'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { auditMark, auditSince } from '#tests/support/audit'
import { finishedCdr, ourNumber } from '#tests/support/calls'
import DataExportService from '#privacy/services/data_export_service'
import { processingRecord } from '#privacy/services/processing_record'

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

async function rulesOf(user: User) {
  const rows = await CallForwarding.query().where('user_id', user.id).orderBy('condition')
  return Object.fromEntries(
    rows.map((row) => [row.condition, [row.targetUserId, row.targetNumber, row.ringSeconds]])
  )
}

async function withExtension(company: Company, user: User, extension: string) {
  const admin = await makeUser('admin', company)
  await new InternalLineService().setExtension(company, user.id, extension, {
    actor: admin,
    ip: null,
  })
}

test.group('Call forwarding: the user sets it on the phone settings page', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('sets each condition, to a colleague or an external number; clears them again; each save audited', async ({
    client,
    assert,
  }) => {
    const company = await makeCompany('active')
    const alice = await makeUser('member', company)
    const bob = await makeUser('member', company)
    const mark = await auditMark()

    const saved = await client
      .put('/app/phone/forwarding')
      .form(
        form({
          always_target: 'external',
          always_number: '030 1234567',
          busy_target: String(bob.id),
          no_answer_target: 'external',
          no_answer_number: '+49 171 2345678',
          no_answer_ring_seconds: '35',
          unreachable_target: String(bob.id),
          // Ignored: the select says colleague
          unreachable_number: 'garbage',
        })
      )
      .withCsrfToken()
      .loginAs(alice)
      .redirects(0)
    saved.assertStatus(302)
    saved.assertHeader('location', '/app/phone/settings')
    saved.assertFlashMessage('notice', 'Rufumleitung gespeichert.')
    assert.deepEqual(await rulesOf(alice), {
      always: [null, '+49301234567', null],
      busy: [bob.id, null, null],
      no_answer: [null, '+491712345678', 35],
      unreachable: [bob.id, null, null],
    })

    // The default seconds when the field is left empty; only no_answer changes.
    await client
      .put('/app/phone/forwarding')
      .form(
        form({
          always_target: 'external',
          always_number: '+49301234567',
          busy_target: String(bob.id),
          no_answer_target: String(bob.id),
          no_answer_ring_seconds: '',
          unreachable_target: String(bob.id),
        })
      )
      .withCsrfToken()
      .loginAs(alice)
      .redirects(0)
    assert.deepEqual((await rulesOf(alice)).no_answer, [bob.id, null, 20])

    // Everything off
    await client
      .put('/app/phone/forwarding')
      .form(form())
      .withCsrfToken()
      .loginAs(alice)
      .redirects(0)
    assert.deepEqual(await rulesOf(alice), {})

    const entries = await auditSince(mark).where('action', 'calls.forwarding.updated').orderBy('id')
    assert.deepEqual(
      entries.map((entry) => [entry.details, entry.actorId, entry.companyId, entry.targetId]),
      [
        [
          {
            before: {},
            after: {
              always: '+49301234567',
              busy: `user ${bob.id}`,
              no_answer: '+491712345678, 35 s',
              unreachable: `user ${bob.id}`,
            },
          },
          alice.id,
          company.id,
          String(alice.id),
        ],
        [
          {
            before: {
              always: '+49301234567',
              busy: `user ${bob.id}`,
              no_answer: '+491712345678, 35 s',
              unreachable: `user ${bob.id}`,
            },
            after: {
              always: '+49301234567',
              busy: `user ${bob.id}`,
              no_answer: `user ${bob.id}, 20 s`,
              unreachable: `user ${bob.id}`,
            },
          },
          alice.id,
          company.id,
          String(alice.id),
        ],
        [
          {
            before: {
              always: '+49301234567',
              busy: `user ${bob.id}`,
              no_answer: `user ${bob.id}, 20 s`,
              unreachable: `user ${bob.id}`,
            },
            after: {},
          },
          alice.id,
          company.id,
          String(alice.id),
        ],
      ]
    )

    // Saving the same again changes nothing and writes no entry.
    await client
      .put('/app/phone/forwarding')
      .form(form())
      .withCsrfToken()
      .loginAs(alice)
      .redirects(0)
    assert.lengthOf(await auditSince(mark).where('action', 'calls.forwarding.updated'), 3)
  })

  test('{0}: refused next to the field, in German and English; nothing saved, nothing audited')
    .with([
      [
        'another company’s user',
        'busy_target',
        'other',
        'Bitte wählen Sie eine aktive Kollegin',
        'Please choose an active colleague',
      ],
      [
        'oneself',
        'busy_target',
        'self',
        'nicht auf sich selbst',
        'cannot forward calls to yourself',
      ],
      [
        'a disabled colleague',
        'busy_target',
        'disabled',
        'Bitte wählen Sie eine aktive Kollegin',
        'Please choose an active colleague',
      ],
      [
        'a staff member',
        'busy_target',
        'staff',
        'Bitte wählen Sie eine aktive Kollegin',
        'Please choose an active colleague',
      ],
      ['112', 'always_number', '112', 'Notrufnummern (110, 112)', 'emergency numbers (110, 112)'],
      ['110', 'always_number', ' 110 ', 'Notrufnummern (110, 112)', 'emergency numbers (110, 112)'],
      ['116116', 'always_number', '116116', 'Servicenummern', 'service numbers'],
      ['+49 116116', 'always_number', '+49 116116', 'Servicenummern', 'service numbers'],
      ['11833', 'always_number', '11833', 'Servicenummern', 'service numbers'],
      [
        '+49 112',
        'always_number',
        '+49 112',
        'Notrufnummern (110, 112)',
        'emergency numbers (110, 112)',
      ],
      ['0116 116', 'always_number', '0116 116', 'Servicenummern', 'service numbers'],
      ['garbage', 'always_number', 'hello', 'keine gültige Rufnummer', 'not a valid phone number'],
      [
        'an empty number',
        'always_number',
        '',
        'Bitte geben Sie die externe Nummer ein',
        'Please enter the external number',
      ],
      ['3 seconds', 'no_answer_ring_seconds', '3', 'von 5 bis 120 Sekunden', 'from 5 to 120'],
      ['500 seconds', 'no_answer_ring_seconds', '500', 'von 5 bis 120 Sekunden', 'from 5 to 120'],
      ['2.5 seconds', 'no_answer_ring_seconds', '2.5', 'von 5 bis 120 Sekunden', 'from 5 to 120'],
    ])
    .run(async ({ client, assert }, [, field, value, german, english]) => {
      const company = await makeCompany('active')
      const alice = await makeUser('member', company)
      let fields: Record<string, string>
      if (field === 'busy_target') {
        const other =
          value === 'self'
            ? alice
            : value === 'other'
              ? await makeUser('member', await makeCompany('active'))
              : value === 'staff'
                ? await makeUser('support')
                : await makeUser('member', company)
        if (value === 'disabled') {
          other.disabledAt = DateTime.utc()
          await other.save()
        }
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
      const mark = await auditMark()

      for (const [language, message] of [
        ['de', german],
        ['en', english],
      ]) {
        const refused = await client
          .put('/app/phone/forwarding')
          .form(form(fields))
          .header('accept-language', language)
          .withCsrfToken()
          .loginAs(alice)
          .redirects(0)
        refused.assertStatus(302)
        const errors = refused.flashMessages().errorsBag as Record<string, string>
        assert.deepEqual(Object.keys(errors), [field])
        assert.include(errors[field], message)

        // The page shows the message next to that field, and the refused input again.
        const page = await client
          .get('/app/phone/settings')
          .header('accept-language', language)
          .withFlashMessages(refused.flashMessages())
          .loginAs(alice)
        page.assertStatus(200)
        const html = page.text()
        assert.match(
          html,
          new RegExp(`data-error-for="${field}">\\s*<span>[^<]*${escape(message)}`)
        )
        if (field !== 'busy_target')
          assert.match(
            html,
            new RegExp(`name="${field}" type="(tel|number)" value="${escape(value)}"`)
          )
      }
      assert.deepEqual(await rulesOf(alice), {})
      assert.lengthOf(await auditSince(mark).where('action', 'calls.forwarding.updated'), 0)
    })

  test('one refused field keeps every rule as it was, also the valid ones sent with it', async ({
    client,
    assert,
  }) => {
    const company = await makeCompany('active')
    const alice = await makeUser('member', company)
    const bob = await makeUser('member', company)
    await client
      .put('/app/phone/forwarding')
      .form(form({ busy_target: String(bob.id) }))
      .withCsrfToken()
      .loginAs(alice)
      .redirects(0)
    const refused = await client
      .put('/app/phone/forwarding')
      .form(
        form({
          always_target: 'external',
          always_number: '112',
          unreachable_target: String(bob.id),
        })
      )
      .withCsrfToken()
      .loginAs(alice)
      .redirects(0)
    refused.assertFlashMessage(
      'error',
      'Die Rufumleitung wurde nicht gespeichert: Bitte prüfen Sie die markierten Felder.'
    )
    assert.deepEqual(await rulesOf(alice), { busy: [bob.id, null, null] })
  })

  test('the company’s own number may be a target (better chosen as a colleague, but allowed)', async ({
    client,
    assert,
  }) => {
    const company = await makeCompany('active')
    const alice = await makeUser('member', company)
    await ourNumber('+4930555000111', 'local', company)
    const saved = await client
      .put('/app/phone/forwarding')
      .form(form({ unreachable_target: 'external', unreachable_number: '030 555000111' }))
      .withCsrfToken()
      .loginAs(alice)
      .redirects(0)
    saved.assertFlashMessage('notice', 'Rufumleitung gespeichert.')
    assert.deepEqual(await rulesOf(alice), { unreachable: [null, '+4930555000111', null] })
  })

  test('GET /app/phone/forwarding: the user’s own rules as JSON, no names', async ({
    client,
    assert,
  }) => {
    const company = await makeCompany('active')
    const alice = await makeUser('member', company)
    const bob = await makeUser('member', company)
    const empty = await client.get('/app/phone/forwarding').loginAs(alice)
    empty.assertStatus(200)
    empty.assertHeader('cache-control', 'no-store')
    assert.deepEqual(empty.body(), { active: false, rules: {} })

    await new CallForwardingService().update(
      alice,
      company,
      {
        busy: { target: { kind: 'colleague', userId: bob.id } },
        no_answer: { target: { kind: 'external', number: '0171 2345678' }, ringSeconds: 15 },
      },
      { actor: alice, ip: null }
    )
    const rules = await client.get('/app/phone/forwarding').loginAs(alice)
    assert.deepEqual(rules.body(), {
      active: true,
      rules: {
        busy: { to: 'colleague', userId: bob.id, number: null, ringSeconds: null },
        no_answer: { to: 'external', userId: null, number: '+491712345678', ringSeconds: 15 },
      },
    })
    // Bob sees his own (none), not Alice's.
    assert.deepEqual((await client.get('/app/phone/forwarding').loginAs(bob)).body(), {
      active: false,
      rules: {},
    })
  })

  test('the page in German and English: one row per condition, colleagues by name and extension, the hint, saved values shown', async ({
    client,
    assert,
  }) => {
    const company = await makeCompany('active')
    const alice = await makeUser('member', company)
    const bob = await makeUser('member', company)
    const carol = await makeUser('member', company)
    carol.disabledAt = DateTime.utc()
    await carol.save()
    await withExtension(company, bob, '23')
    await new CallForwardingService().update(
      alice,
      company,
      {
        busy: { target: { kind: 'colleague', userId: bob.id } },
        no_answer: { target: { kind: 'external', number: '030 1234567' }, ringSeconds: 45 },
      },
      { actor: alice, ip: null }
    )

    const german = await client.get('/app/phone/settings').loginAs(alice)
    german.assertStatus(200)
    const de = german.text()
    assert.include(de, 'Rufumleitung')
    assert.include(de, 'wird der Firma berechnet')
    for (const legend of ['Immer', 'Bei besetzt', 'Wenn nicht angenommen', 'Wenn nicht erreichbar'])
      assert.include(de, `<legend>${legend}`)
    assert.include(de, `${bob.fullName} (Durchwahl 23)`)
    assert.notInclude(de, carol.fullName)
    assert.match(de, new RegExp(`<option value="${bob.id}" selected>`))
    assert.match(de, /name="no_answer_number" type="tel" value="\+49301234567"/)
    assert.match(de, /name="no_answer_ring_seconds" type="number" value="45"/)
    assert.match(de, /<select id="field-always_target"[^>]*>\s*<option value="off" selected>Aus/)

    const english = await client
      .get('/app/phone/settings')
      .header('accept-language', 'en')
      .loginAs(alice)
    const en = english.text()
    assert.include(en, 'Call forwarding')
    assert.include(en, 'billed to the company')
    assert.include(en, `${bob.fullName} (extension 23)`)
    assert.include(en, '<legend>When busy')
    assert.notInclude(en, 'translation missing')
  })
})

/** A message as a regular expression (the messages hold brackets and dots). */
function escape(text: string) {
  return text.trim().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

test.group('Call forwarding in the call history', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('a forwarded call says where it went and why; the outbound call of an external forwarding is a “forwarded call”', async ({
    client,
    assert,
  }) => {
    const company = await makeCompany('active', { itemisedNumbers: 'full' })
    const alice = await makeUser('member', company)
    const started = DateTime.utc().minus({ hours: 1 })
    const forwarded = await finishedCdr(company, alice, started, {
      direction: 'inbound',
      callerNumber: '+4940555666',
      calleeNumber: '+4930111222',
      forwardedTo: '+491712345678',
      forwardReason: 'busy',
    })
    const leg = await finishedCdr(company, alice, started.plus({ seconds: 1 }), {
      direction: 'outbound',
      callerNumber: '+4930111222',
      calleeNumber: '+491712345678',
      forwardedFromUuid: forwarded.uuid,
    })
    const internal = await finishedCdr(company, alice, started.minus({ minutes: 5 }), {
      direction: 'inbound',
      callerNumber: '+4940555777',
      forwardedTo: '23',
      forwardReason: 'no_answer',
    })

    const german = await client.get('/app/calls').loginAs(alice)
    german.assertStatus(200)
    const de = german.text()
    assert.match(
      de,
      new RegExp(
        `data-call="${forwarded.uuid}"[\\s\\S]*?Umgeleitet auf \\+49 171 2345678 \\(besetzt\\)`
      )
    )
    assert.match(
      de,
      new RegExp(`data-call="${internal.uuid}"[\\s\\S]*?Umgeleitet auf 23 \\(keine Annahme\\)`)
    )
    assert.match(
      de,
      new RegExp(
        `data-call="${leg.uuid}"[^>]*data-forwarded-call="forward"[\\s\\S]*?Umgeleiteter Anruf`
      )
    )

    const english = await client.get('/app/calls').header('accept-language', 'en').loginAs(alice)
    const en = english.text()
    assert.match(en, /Forwarded to \+49 171 2345678 \(busy\)/)
    assert.match(en, /Forwarded to 23 \(no answer\)/)
    assert.match(en, new RegExp(`data-call="${leg.uuid}"[\\s\\S]*?Forwarded call`))
    // The forwarding leg is not shown as a call Alice dialled.
    assert.notMatch(
      en,
      new RegExp(`data-call="${leg.uuid}"[^>]*>\\s*<td>[^<]*</td>\\s*<td>outgoing`)
    )
  })

  test('a transferred call says so, and so does the outbound call the transfer placed; a forwarding without a target still names its reason', async ({
    client,
    assert,
  }) => {
    const company = await makeCompany('active', { itemisedNumbers: 'full' })
    const alice = await makeUser('member', company)
    const started = DateTime.utc().minus({ hours: 1 })
    const transferred = await finishedCdr(company, alice, started, {
      direction: 'inbound',
      callerNumber: '+4940555666',
      forwardedTo: '+4989123456',
      forwardReason: 'transfer',
    })
    const leg = await finishedCdr(company, alice, started.plus({ seconds: 30 }), {
      direction: 'outbound',
      calleeNumber: '+4989123456',
      forwardedFromUuid: transferred.uuid,
    })
    const untargeted = await finishedCdr(company, alice, started.minus({ minutes: 5 }), {
      direction: 'inbound',
      callerNumber: '+4940555777',
      forwardedTo: null,
      forwardReason: 'unreachable',
    })

    const german = (await client.get('/app/calls').loginAs(alice)).text()
    assert.match(
      german,
      new RegExp(`data-call="${transferred.uuid}"[\\s\\S]*?Weitervermittelt an \\+49 89 123456<`)
    )
    assert.match(
      german,
      new RegExp(
        `data-call="${leg.uuid}"[^>]*data-forwarded-call="transfer"[^>]*>\\s*<td>[^<]*</td>\\s*<td>Weitervermittelter Anruf</td>`
      )
    )
    assert.match(
      german,
      new RegExp(`data-call="${untargeted.uuid}"[\\s\\S]*?Umgeleitet \\(nicht erreichbar\\)`)
    )
    const english = (
      await client.get('/app/calls').header('accept-language', 'en').loginAs(alice)
    ).text()
    assert.include(english, 'Transferred to +49 89 123456<')
    assert.include(english, '<td>Transferred call</td>')
    assert.include(english, 'Forwarded (unreachable)')
  })

  test('shortened numbers stay shortened in the forwarding note', async ({ client, assert }) => {
    const company = await makeCompany('active', { itemisedNumbers: 'shortened' })
    const alice = await makeUser('member', company)
    await finishedCdr(company, alice, DateTime.utc().minus({ hours: 1 }), {
      direction: 'inbound',
      callerNumber: '+4940555666',
      forwardedTo: '+491712345678',
      forwardReason: 'always',
    })
    const page = await client.get('/app/calls').header('accept-language', 'en').loginAs(alice)
    assert.include(page.text(), '(always)')
    assert.notInclude(page.text(), '2345678')
  })
})

test.group('Call forwarding: personal data', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('the rules are in the record of processing and in the data export of the user and of the colleague they name', async ({
    assert,
  }) => {
    const record = processingRecord()
    assert.include(
      record.processor.map((activity) => activity.key),
      'calls.call_forwardings'
    )
    const company = await makeCompany('active')
    const alice = await makeUser('member', company)
    const bob = await makeUser('member', company)
    const carol = await makeUser('member', company)
    await new CallForwardingService().update(
      alice,
      company,
      {
        busy: { target: { kind: 'colleague', userId: bob.id } },
        always: { target: { kind: 'external', number: '030 1234567' } },
      },
      { actor: alice, ip: null }
    )
    const exported = async (user: User) => {
      const { files } = await new DataExportService().collect(user)
      return (files.get('call_forwardings') ?? []).map((row) => [
        row.user_id,
        row.condition,
        row.target_user_id,
        row.target_number,
      ])
    }
    assert.sameDeepMembers(await exported(alice), [
      [alice.id, 'busy', bob.id, null],
      [alice.id, 'always', null, '+49301234567'],
    ])
    assert.deepEqual(await exported(bob), [[alice.id, 'busy', bob.id, null]])
    assert.deepEqual(await exported(carol), [])

    // Deleted with the colleague they name (and with the user: both foreign keys cascade).
    await bob.delete()
    assert.deepEqual(await rulesOf(alice), { always: [null, '+49301234567', null] })
  })
})
