import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import db from '@adonisjs/lucid/services/db'
import Company from '#accounts/models/company'
import Permission from '#accounts/models/permission'
import Role from '#accounts/models/role'
import User from '#accounts/models/user'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { auditMark, auditSince } from '#tests/support/audit'
import PhoneSettingsService from '#calls/services/phone_settings_service'

/** The web phone page and the phone settings (CLIR default, anonymous callers, itemised numbers). */

test.group('Web phone page', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('the page carries the hooks its script needs and says that calls are never recorded (de, en)', async ({
    client,
    assert,
  }) => {
    const company = await makeCompany('active', { country: 'AT' })
    const user = await makeUser('member', company)
    const page = await client.get('/app/phone').loginAs(user)
    page.assertStatus(200)
    const html = page.text()
    assert.match(html, /id="web-phone"[^>]*data-phone-state="idle"/)
    assert.include(html, 'data-credential-url="/app/phone/credential"')
    assert.match(html, /data-csrf-token="[^"]{16,}"/)
    assert.include(html, 'data-default-country="AT"')
    assert.include(html, 'data-echo-number="*43"')
    assert.include(html, 'Gespräche werden nie aufgezeichnet')
    assert.include(html, 'resources/js/phone/main.ts')
    for (const id of [
      'phone-number',
      'phone-call',
      'phone-hangup',
      'phone-mute',
      'phone-hold',
      'phone-dialpad',
      'phone-caller-id',
      'phone-withhold',
      'phone-accept',
      'phone-reject',
      'phone-microphone',
      'phone-speaker',
      'phone-quality',
      'phone-remote-audio',
    ]) {
      assert.include(html, `id="${id}"`)
    }
    // The script's texts travel as JSON in a data attribute, placeholders left for the script.
    const texts = JSON.parse(
      /data-texts="([^"]+)"/
        .exec(html)![1]
        .replaceAll('&quot;', '"')
        .replaceAll('&amp;', '&')
        .replaceAll('&#39;', "'")
    )
    assert.equal(texts['state.registered'], 'Bereit')
    assert.equal(texts['state.refused'], 'Abgelehnt: {reason}')

    const english = await client.get('/app/phone').header('accept-language', 'en').loginAs(user)
    assert.include(english.text(), 'Calls are never recorded')
  })

  test('the page needs calls.place; the navigation links it only then', async ({
    client,
    assert,
  }) => {
    const user = await makeUser('member')
    const dashboard = await client.get('/app').loginAs(user)
    assert.include(dashboard.text(), 'href="/app/phone"')
    const role = await Role.findByOrFail('name', 'member')
    const permission = await Permission.findByOrFail('name', 'calls.place')
    await db
      .from('role_permissions')
      .where({ role_id: role.id, permission_id: permission.id })
      .delete()
    const page = await client.get('/app/phone').loginAs(user)
    page.assertStatus(403)
    assert.notInclude((await client.get('/app').loginAs(user)).text(), 'href="/app/phone"')
  })

  test('the phone is docked beside every customer page, outside the swapped <main>; not without calls.place', async ({
    client,
    assert,
  }) => {
    const user = await makeUser('member')
    for (const path of [
      '/app',
      '/app/calls',
      '/app/devices',
      '/app/phone/settings',
      '/app/sub-processors',
    ]) {
      const html = (await client.get(path).loginAs(user)).text()
      assert.match(html, /<body class="area-customer has-phone-dock">/, path)
      assert.match(
        html,
        /<\/main>\s*<link[^>]+phone\.css[\s\S]*<aside class="card phone phone-dock" id="web-phone"/,
        path
      )
      assert.include(html, 'resources/js/phone/main.ts', path)
      assert.include(html, 'id="phone-outcome-dismiss"', path)
    }
    const role = await Role.findByOrFail('name', 'member')
    const permission = await Permission.findByOrFail('name', 'calls.place')
    await db
      .from('role_permissions')
      .where({ role_id: role.id, permission_id: permission.id })
      .delete()
    const html = (await client.get('/app/calls').loginAs(user)).text()
    assert.notInclude(html, 'id="web-phone"')
    assert.notInclude(html, 'has-phone-dock')
    assert.notInclude(html, 'resources/js/phone/main.ts')
  })
})

test.group('Phone settings', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('a new company shows destination numbers shortened; users start with CLIR off and anonymous calls allowed', async ({
    assert,
  }) => {
    const company = await makeCompany()
    const user = await makeUser('member', company)
    const companyRow = await Company.findOrFail(company.id)
    const userRow = await User.findOrFail(user.id)
    assert.equal(companyRow.itemisedNumbers, 'shortened')
    assert.isFalse(userRow.clirDefault)
    assert.isFalse(userRow.rejectAnonymous)
  })

  test('a user sets CLIR by default and rejects anonymous callers; unticking turns them off again', async ({
    client,
    assert,
  }) => {
    const user = await makeUser('member')
    const mark = await auditMark()
    const saved = await client
      .put('/app/phone/settings')
      .form({ clir_default: '1', reject_anonymous: 'on' })
      .withCsrfToken()
      .loginAs(user)
      .redirects(0)
    saved.assertHeader('location', '/app/phone/settings')
    let row = await User.findOrFail(user.id)
    assert.isTrue(row.clirDefault)
    assert.isTrue(row.rejectAnonymous)
    const entry = await auditSince(mark).where('action', 'phone.settings.changed').firstOrFail()
    assert.deepEqual(entry.details?.after, { clirDefault: true, rejectAnonymous: true })

    const page = await client.get('/app/phone/settings').loginAs(row)
    assert.match(page.text(), /name="clir_default"[^>]*checked/)

    await client.put('/app/phone/settings').form({}).withCsrfToken().loginAs(row).redirects(0)
    row = await User.findOrFail(user.id)
    assert.isFalse(row.clirDefault)
    assert.isFalse(row.rejectAnonymous)
  })

  test('the owner chooses full or shortened numbers; a member may not; a wrong value is refused next to the field', async ({
    client,
    assert,
  }) => {
    const company = await makeCompany()
    const owner = await makeUser('owner', company)
    const member = await makeUser('member', company)

    const memberPage = await client.get('/app/phone/settings').loginAs(member)
    assert.notInclude(memberPage.text(), 'company-phone-settings-form')
    const refused = await client
      .put('/app/phone/settings/company')
      .form({ itemised_numbers: 'full' })
      .withCsrfToken()
      .loginAs(member)
    refused.assertStatus(403)

    const wrong = await client
      .put('/app/phone/settings/company')
      .form({ itemised_numbers: 'everything' })
      .withCsrfToken()
      .loginAs(owner)
      .redirects(0)
    wrong.assertStatus(302)
    assert.deepEqual(
      (wrong.flashMessages().inputErrorsBag as Record<string, string[]>).itemised_numbers,
      ['Bitte einen gültigen Wert wählen.']
    )
    assert.equal((await Company.findOrFail(company.id)).itemisedNumbers, 'shortened')

    const mark = await auditMark()
    await client
      .put('/app/phone/settings/company')
      .form({ itemised_numbers: 'full', full_numbers_declaration: '1' })
      .withCsrfToken()
      .loginAs(owner)
      .redirects(0)
    assert.equal((await Company.findOrFail(company.id)).itemisedNumbers, 'full')
    const entry = await auditSince(mark)
      .where('action', 'company.itemised_numbers.changed')
      .firstOrFail()
    assert.include(entry.details, { from: 'shortened', to: 'full' })
  })

  test('full numbers need the owner’s declaration (TDDDG § 11(1)): refused without it or from an admin; stored with who and when, audited, cleared on leaving full', async ({
    client,
    assert,
  }) => {
    const company = await makeCompany()
    const owner = await makeUser('owner', company)
    const admin = await makeUser('admin', company)
    const page = await client.get('/app/phone/settings').loginAs(owner)
    assert.match(
      page.text(),
      /name="full_numbers_declaration"[^>]*type|type="checkbox" name="full_numbers_declaration"/
    )
    assert.include(page.text(), 'dass alle Mitbenutzer (Beschäftigte) informiert sind')

    const mark = await auditMark()
    const missing = await client
      .put('/app/phone/settings/company')
      .form({ itemised_numbers: 'full' })
      .withCsrfToken()
      .loginAs(owner)
      .redirects(0)
    missing.assertHeader('location', '/app/phone/settings')
    assert.equal(
      missing.flashMessage('errorsBag.full_numbers_declaration'),
      'Für vollständige Zielnummern bitte die Erklärung bestätigen.'
    )
    const shown = await client
      .get('/app/phone/settings')
      .withFlashMessages(missing.flashMessages())
      .loginAs(owner)
    assert.match(shown.text(), /data-error-for="full_numbers_declaration"><span>Für vollständige/)
    const fromAdmin = await client
      .put('/app/phone/settings/company')
      .form({ itemised_numbers: 'full', full_numbers_declaration: '1' })
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    fromAdmin.assertStatus(403)
    // Should staff grant an admin the company settings, the service still takes only an owner's word
    await assert.rejects(
      () =>
        new PhoneSettingsService().updateCompany(
          company,
          'full',
          admin,
          null,
          { confirmed: true, text: 'declared' },
          false
        ),
      /owners_only/
    )
    let row = await Company.findOrFail(company.id)
    assert.equal(row.itemisedNumbers, 'shortened')
    assert.isNull(row.fullNumbersDeclaredAt)
    assert.lengthOf(await auditSince(mark).where('action', 'company.itemised_numbers.changed'), 0)

    await client
      .put('/app/phone/settings/company')
      .header('accept-language', 'en')
      .form({ itemised_numbers: 'full', full_numbers_declaration: '1' })
      .withCsrfToken()
      .loginAs(owner)
      .redirects(0)
    row = await Company.findOrFail(company.id)
    assert.equal(row.itemisedNumbers, 'full')
    assert.equal(row.fullNumbersDeclaredBy, owner.id)
    assert.isNotNull(row.fullNumbersDeclaredAt)
    assert.include(row.fullNumbersDeclaration!, 'TDDDG § 11')
    const entry = await auditSince(mark)
      .where('action', 'company.itemised_numbers.changed')
      .firstOrFail()
    assert.deepEqual(entry.details, {
      from: 'shortened',
      to: 'full',
      declaration: row.fullNumbersDeclaration,
    })
    const declared = await client.get('/app/phone/settings').loginAs(owner)
    assert.match(declared.text(), /id="full-numbers-declared"[^>]*>[^<]*/)
    assert.include(declared.text(), owner.fullName)

    // Keeping full needs no second declaration; leaving it clears the declaration
    await client
      .put('/app/phone/settings/company')
      .form({ itemised_numbers: 'full' })
      .withCsrfToken()
      .loginAs(owner)
      .redirects(0)
    assert.equal((await Company.findOrFail(company.id)).fullNumbersDeclaredBy, owner.id)
    await client
      .put('/app/phone/settings/company')
      .form({ itemised_numbers: 'shortened' })
      .withCsrfToken()
      .loginAs(owner)
      .redirects(0)
    row = await Company.findOrFail(company.id)
    assert.equal(row.itemisedNumbers, 'shortened')
    assert.isNull(row.fullNumbersDeclaredBy)
    assert.isNull(row.fullNumbersDeclaration)
  })

  test('a suspended company cannot change its itemised-number choice', async ({
    client,
    assert,
  }) => {
    const company = await makeCompany('suspended')
    const owner = await makeUser('owner', company)
    const response = await client
      .put('/app/phone/settings/company')
      .form({ itemised_numbers: 'full' })
      .withCsrfToken()
      .loginAs(owner)
      .redirects(0)
    response.assertHeader('location', '/app/phone/settings')
    assert.equal((await Company.findOrFail(company.id)).itemisedNumbers, 'shortened')
  })
})
