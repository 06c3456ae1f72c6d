import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import i18nManager from '@adonisjs/i18n/services/main'
import { DateTime } from 'luxon'
import AuditLog from '#accounts/services/audit_log'
import { PERMISSIONS } from '#accounts/permissions'
import PhoneNumber from '#calls/models/phone_number'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { enableTwoFactor } from '#tests/support/two_factor'
import { fakeCarriers } from '#tests/support/carriers'
import app from '@adonisjs/core/services/app'
import AuditEntry from '#accounts/models/audit_entry'
import AuditPresenter from '#accounts/services/audit_presenter'
import { alertTitle } from '#core/alerts/alert_delivery_job'
import type MeteredJobQueue from '#core/metrics/job_metrics'
import { TOM_CHECK_KEYS } from '#core/monitoring/tom_checks'

/** The page's HTML without the whitespace between tags. */
function compact(html: string) {
  return html.replace(/>\s+</g, '><')
}

async function superadmin() {
  const staff = await makeUser('superadmin')
  await enableTwoFactor(staff)
  return staff
}

test.group('Words instead of raw values', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('every permission has a German and an English label; the roles page shows them, not the keys', async ({
    client,
    assert,
  }) => {
    for (const locale of ['de', 'en']) {
      const i18n = i18nManager.locale(locale)
      for (const name of Object.keys(PERMISSIONS))
        assert.isTrue(i18n.hasMessage(`permissions.${name}`), `${locale}: permissions.${name}`)
    }
    const staff = await superadmin()
    const german = (await client.get('/admin/roles').loginAs(staff)).text()
    assert.include(german, '>Telefonieren</th>')
    assert.include(german, '>Rollen und Rechte bearbeiten</th>')
    assert.notInclude(german, '<code>calls.place</code>')
    assert.notMatch(german, /<th[^>]*>\s*calls\.place\s*</)
    const english = (
      await client.get('/admin/roles').header('Accept-Language', 'en').loginAs(staff)
    ).text()
    assert.include(english, '>Make calls</th>')
  })

  test('the audit log names actions and details in words, without JSON', async ({
    client,
    assert,
  }) => {
    const company = await makeCompany('active')
    const owner = await makeUser('owner', company)
    const staff = await superadmin()
    await AuditLog.record({
      action: 'company.status.changed',
      actor: staff,
      companyId: company.id,
      target: { type: 'company', id: company.id },
      details: { from: 'pending', to: 'active', reason: 'Register geprüft' },
    })
    await AuditLog.record({
      action: 'role.permissions.changed',
      actor: staff,
      companyId: company.id,
      target: { type: 'role', id: 'admin' },
      details: { added: ['calls.place'], removed: [] },
    })
    await AuditLog.record({
      action: 'web_phone.credentials.revoked',
      actor: null,
      companyId: company.id,
      target: { type: 'user', id: owner.id },
      details: { reason: 'company_suspended', expiresAt: '2026-12-01T17:17:01.243Z' },
    })
    const german = compact(
      (await client.get('/admin/audit').qs({ company_id: company.id }).loginAs(staff)).text()
    )
    assert.include(german, '>Firmenstatus geändert</td>')
    assert.include(
      german,
      '<dt>von</dt><dd>in Prüfung</dd><dt>auf</dt><dd>aktiv</dd><dt>Grund</dt><dd>Register geprüft</dd>'
    )
    assert.include(german, '<dt>hinzugefügt</dt><dd>Telefonieren</dd>')
    assert.include(
      german,
      '<dt>Grund</dt><dd>Firma gesperrt</dd><dt>gültig bis</dt><dd>01.12.2026, 17:17 UTC</dd>'
    )
    assert.include(german, 'Firma ' + company.id)
    assert.include(german, `<td data-company-id="${company.id}">${company.displayName}</td>`)
    assert.notInclude(german, '&quot;from&quot;')
    assert.notMatch(german, />\s*company\.status\.changed\s*</)
    // The action filter offers the actions in words and matches the stored key
    assert.include(german, '<option value="company.status.changed" >Firmenstatus geändert</option>')
    const filtered = compact(
      (
        await client
          .get('/admin/audit')
          .qs({ company_id: company.id, action: 'company.status.changed' })
          .loginAs(staff)
      ).text()
    )
    assert.include(filtered, '<option value="company.status.changed" selected>')
    assert.equal(filtered.match(/<tr data-action=/g)?.length, 1)

    const english = compact(
      (await client.get('/app/audit').header('Accept-Language', 'en').loginAs(owner)).text()
    )
    assert.include(english, '>Company status changed</td>')
    assert.include(english, '<dt>from</dt><dd>under review</dd><dt>to</dt><dd>active</dd>')
  })

  test('countries, data residency and phone numbers read as words and grouped numbers', async ({
    client,
    assert,
  }) => {
    const company = await makeCompany('active', {
      country: 'AT',
      billingCountry: 'AT',
      dataResidency: 'eu_only',
    })
    const owner = await makeUser('owner', company)
    await PhoneNumber.create({
      number: '+4930123456789',
      carrierName: 'local',
      companyId: company.id,
      userId: null,
      assignedAt: DateTime.utc(),
    })
    const staff = await superadmin()

    const page = (await client.get(`/admin/companies/${company.id}`).loginAs(staff)).text()
    assert.include(page, '(Österreich)')
    assert.include(page, '>Nur in der EU/im EWR</dd>')
    assert.notInclude(page, 'eu_only<')
    const list = (
      await client.get('/admin/companies').header('Accept-Language', 'en').loginAs(staff)
    ).text()
    assert.include(list, '<td>Austria</td>')
    // Dates as people write them, not ISO
    assert.include(
      list,
      `<td>${company.createdAt.setLocale('en').toLocaleString({ dateStyle: 'medium' })}</td>`
    )
    assert.notInclude(list, `<td>${company.createdAt.toISODate()}</td>`)

    const signup = (await client.get('/signup')).text()
    assert.include(signup, '<option value="DE" selected>Deutschland</option>')
    assert.include(
      (await client.get('/signup').header('Accept-Language', 'en')).text(),
      '>Germany</option>'
    )

    const numbers = (await client.get('/app/numbers').loginAs(owner)).text()
    assert.include(numbers, '+49 30 123456789')
    assert.notInclude(numbers, '>+4930123456789<')
    const admin = (
      await client.get('/admin/numbers').qs({ company_id: company.id }).loginAs(staff)
    ).text()
    assert.include(admin, '+49 30 123456789')
  })

  test('regions read as their short names (EU), not as config keys', async ({
    client,
    assert,
    cleanup,
  }) => {
    cleanup(await fakeCarriers())
    const staff = await superadmin()
    const carriers = (await client.get('/admin/carriers').loginAs(staff)).text()
    assert.include(carriers, '<td>EU</td>')
    assert.notInclude(carriers, '<td>eu</td>')
    assert.include((await client.get('/admin/routes/eu').loginAs(staff)).text(), '· EU</h1>')
  })
})

test.group('Audit action labels', () => {
  test('every audit action and target type the code records has a German and an English label', async ({
    assert,
  }) => {
    const { readdir, readFile } = await import('node:fs/promises')
    const files = (await readdir(app.makePath('app'), { recursive: true })).filter((file) =>
      file.endsWith('.ts')
    )
    const actions = new Set<string>()
    const targets = new Set<string>()
    for (const file of files) {
      const source = await readFile(app.makePath('app', file), 'utf8')
      // `action: 'x.y'`, `#audit(trx, 'x.y'`, `? 'user.disabled' : 'user.enabled'` and the AuditAction union
      for (const match of source.matchAll(/action: '([a-z0-9_]+(?:\.[a-z0-9_]+)+)'/g))
        actions.add(match[1])
      for (const match of source.matchAll(/#audit\((?:trx, )?'([a-z0-9_.]+)'/g))
        actions.add(match[1])
      for (const match of source.matchAll(/\? '(user\.[a-z]+)' : '(user\.[a-z]+)'/g))
        actions.add(match[1]).add(match[2])
      for (const match of source.matchAll(/target: \{ type: '([a-z_]+)'/g)) targets.add(match[1])
      for (const match of source.matchAll(/targetType: '([a-z_]+)'/g)) targets.add(match[1])
      const union = /export type AuditAction =([\s\S]*?)\(string & \{\}\)/.exec(source)?.[1] ?? ''
      for (const match of union.matchAll(/\| '([a-z0-9_.]+)'/g)) actions.add(match[1])
    }
    assert.isAbove(actions.size, 30)
    assert.isAbove(targets.size, 15)
    for (const locale of ['de', 'en']) {
      const i18n = i18nManager.locale(locale)
      const missing = [...actions].filter((action) => !i18n.hasMessage(`audit.actions.${action}`))
      assert.deepEqual(missing, [], `${locale}: audit actions without a label`)
      const unnamed = [...targets].filter((type) => !i18n.hasMessage(`audit.targets.${type}`))
      assert.deepEqual(unnamed, [], `${locale}: audit target types without a name`)
    }
  })

  test('an accepted DPA reads as words: its version, language and a short checksum', async ({
    assert,
  }) => {
    const i18n = i18nManager.locale('de')
    const presenter = new AuditPresenter(i18n)
    const line = presenter.present(
      new AuditEntry().merge({
        action: 'privacy.dpa.accepted',
        targetType: 'dpa_acceptance',
        targetId: '7',
        details: { version: '1.0', locale: 'de', sha256: 'ab'.repeat(32) },
      })
    )
    assert.equal(line.action, 'AVV angenommen')
    assert.equal(line.target, 'AVV-Annahme 7')
    assert.deepEqual(line.details, [
      { label: 'Fassung', value: '1.0' },
      { label: 'Sprache', value: 'Deutsch' },
      { label: 'Prüfsumme (SHA-256)', value: `${'ab'.repeat(8)}…` },
    ])
    const request = presenter.present(
      new AuditEntry().merge({
        action: 'privacy.request.received',
        details: { kind: 'access', channel: 'self_service' },
      })
    )
    assert.deepEqual(request.details, [
      { label: 'Art', value: 'Datenkopie' },
      { label: 'Eingang', value: 'online von der Person' },
    ])
  })
})

test.group('Alert titles', () => {
  test('TOM checks and retention jobs are named in words, in both languages', async ({
    assert,
  }) => {
    const queue = (await app.container.make('jobs.queue')) as MeteredJobQueue
    const retentionJobs = queue.scheduledJobs.filter((name) => name.includes('retention'))
    assert.isAbove(retentionJobs.length, 5)
    for (const locale of ['de', 'en']) {
      const i18n = i18nManager.locale(locale)
      for (const key of TOM_CHECK_KEYS) {
        const title = alertTitle(i18n, { kind: 'ops_tom_check_failed', facts: { subject: key } })
        assert.notInclude(title, key, `${locale}: TOM check ${key}`)
      }
      for (const job of retentionJobs) {
        const title = alertTitle(i18n, {
          kind: 'ops_retention_job_missed',
          facts: { subject: job },
        })
        assert.notInclude(title, job, `${locale}: retention job ${job}`)
      }
    }
    const german = i18nManager.locale('de')
    assert.equal(
      alertTitle(german, { kind: 'ops_tom_check_failed', facts: { subject: 'cdr_retention' } }),
      'Eine technische Maßnahme hat ihre Prüfung nicht bestanden: Verbindungsdaten nach 6 Monaten gelöscht'
    )
    assert.equal(
      alertTitle(german, { kind: 'ops_carrier_down', facts: { subject: 'sipgate' } }),
      'Carrier sipgate ist ausgefallen: er antwortet nicht auf die Prüfungen',
      'other subjects stay as they are'
    )
  })
})
