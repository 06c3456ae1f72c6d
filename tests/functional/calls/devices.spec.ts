import { randomInt } from 'node:crypto'
import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import testUtils from '@adonisjs/core/services/test_utils'
import Company from '#accounts/models/company'
import AuditEntry from '#accounts/models/audit_entry'
import CompanyService from '#accounts/services/company_service'
import SipDevice from '#calls/models/sip_device'
import SipDeviceService from '#calls/services/sip_device_service'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { until } from '#tests/support/server_process'
import { registerWithPassword } from '#tests/unit/calls/sip/registrar/registrar_fixtures'
import { sipSubjectParts, userSubject } from '#calls/signalling/sip_subject'

/** The devices page: users add their own SIP phones (password shown once), see them, revoke them. */

test.group('Devices page', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('adding a device shows its username and password once; the list never shows the password again', async ({
    client,
    assert,
  }) => {
    const user = await makeUser('member')
    const created = await client
      .post('/app/devices')
      .form({ label: 'Empfang' })
      .withCsrfToken()
      .loginAs(user)
    created.assertStatus(200)
    const device = await SipDevice.query().where('user_id', user.id).firstOrFail()
    assert.equal(device.label, 'Empfang')
    const html = created.text()
    const password = /id="device-password">([^<]+)</.exec(html)?.[1]
    assert.isString(password)
    assert.isAtLeast(password!.length, 20)
    assert.include(html, `id="device-username">${device.sipUsername}<`)
    const credential = await new SipDeviceService().findByUsername(device.sipUsername)
    assert.equal(
      credential && sipSubjectParts(credential.subject)?.deviceId,
      device.id,
      'the shown password is the one the digest server knows'
    )

    const list = await client.get('/app/devices').loginAs(user)
    assert.include(list.text(), device.sipUsername)
    assert.include(list.text(), 'noch nie')
    assert.notInclude(list.text(), password!)
    assert.notInclude(list.text(), 'id="device-password"')
  })

  test('an empty or overlong name is refused next to the field', async ({ client, assert }) => {
    const user = await makeUser('member')
    for (const label of ['   ', 'x'.repeat(101)]) {
      const response = await client
        .post('/app/devices')
        .form({ label })
        .withCsrfToken()
        .loginAs(user)
        .redirects(0)
      response.assertStatus(302)
      assert.property(response.flashMessages().inputErrorsBag, 'label')
    }
    assert.lengthOf(await SipDevice.query().where('user_id', user.id), 0)
  })

  test('users see and revoke only their own devices; revoking ends the device’s registration at once', async ({
    client,
    assert,
  }) => {
    const company = await makeCompany()
    const user = await makeUser('member', company)
    const colleague = await makeUser('admin', company)
    const service = new SipDeviceService()
    const { device, password } = await service.create(user, 'Desk phone')
    const theirs = await service.create(colleague, 'Colleague phone')

    const stack = await app.container.make('sip.stack')
    const source = {
      protocol: 'udp' as const,
      host: `198.18.${randomInt(256)}.${randomInt(1, 255)}`,
      port: 5062,
    }
    const registered = await registerWithPassword(stack.registrar.registrar, {
      username: device.sipUsername,
      password,
      source,
    })
    assert.equal(registered.final.status, 200)

    const list = await client.get('/app/devices').loginAs(user)
    assert.include(list.text(), device.sipUsername)
    assert.notInclude(list.text(), theirs.device.sipUsername)

    const foreign = await client
      .delete(`/app/devices/${theirs.device.id}`)
      .withCsrfToken()
      .loginAs(user)
    foreign.assertStatus(404)
    assert.isNull((await SipDevice.findOrFail(theirs.device.id)).revokedAt)

    const revoked = await client
      .delete(`/app/devices/${device.id}`)
      .withCsrfToken()
      .loginAs(user)
      .redirects(0)
    revoked.assertHeader('location', '/app/devices')
    assert.isNotNull((await SipDevice.findOrFail(device.id)).revokedAt)
    assert.lengthOf(
      await stack.registrar.registrar.lookupSubject(userSubject(user.id)),
      0,
      'the binding is gone, not left to expire'
    )
    assert.isUndefined(await service.findByUsername(device.sipUsername))
    const after = await client.get('/app/devices').loginAs(user)
    assert.include(after.text(), 'widerrufen')
  })

  test('"encrypted only": the owner turns it on, plain registrations end at once and are refused with the reason the page shows; TLS goes on', async ({
    client,
    assert,
  }) => {
    const company = await makeCompany()
    const owner = await makeUser('owner', company)
    const member = await makeUser('member', company)
    const service = new SipDeviceService()
    const plain = await service.create(member, 'Altes Telefon')
    const secure = await service.create(member, 'Neues Telefon')
    const stack = await app.container.make('sip.stack')
    const host = `198.18.${randomInt(256)}.${randomInt(1, 255)}`
    const over = (protocol: 'udp' | 'tls', port: number) =>
      protocol === 'tls'
        ? { protocol, host, port, connectionId: `tls-${host}-${port}` }
        : { protocol, host, port }
    const credentialOf = async (created: typeof plain) =>
      (await service.findByUsername(created.device.sipUsername))!
    const registerAs = (created: typeof plain, protocol: 'udp' | 'tls', callId: string) =>
      registerWithPassword(stack.registrar.registrar, {
        username: created.device.sipUsername,
        password: created.password,
        callId,
        source: over(protocol, protocol === 'tls' ? 5061 : 5062),
      })
    assert.equal((await registerAs(plain, 'udp', 'plain-1')).final.status, 200)
    assert.equal((await registerAs(secure, 'tls', 'secure-1')).final.status, 200)
    const noted = (created: typeof plain, check: (device: SipDevice) => boolean) =>
      until('the device noted', 3000, async () =>
        check(await SipDevice.findOrFail(created.device.id))
      )
    await noted(plain, (device) => device.lastTransport === 'udp')
    await noted(secure, (device) => device.lastTransport === 'tls')
    const before = await client.get('/app/devices').loginAs(member)
    assert.include(before.text(), 'UDP, unverschlüsselt')
    assert.include(before.text(), 'TLS, verschlüsselt')
    assert.notInclude(
      before.text(),
      'id="encryption-form"',
      'members see the setting, not the form'
    )
    await service.called((await credentialOf(secure)).subject, true)
    await service.called((await credentialOf(plain)).subject, false)
    const calls = await client.get('/app/devices').loginAs(member)
    assert.include(calls.text(), 'Sprache verschlüsselt (SRTP)')
    assert.include(calls.text(), 'Sprache unverschlüsselt (RTP)')

    const refused = await client
      .put('/app/devices/encryption')
      .form({ encrypted_only: '1' })
      .withCsrfToken()
      .loginAs(member)
    refused.assertStatus(403)

    const turnedOn = await client
      .put('/app/devices/encryption')
      .form({ encrypted_only: '1' })
      .withCsrfToken()
      .loginAs(owner)
      .redirects(0)
    turnedOn.assertHeader('location', '/app/devices')
    assert.include(turnedOn.flashMessages().notice, 'Ein unverschlüsselt angemeldetes Telefon')
    await company.refresh()
    assert.isTrue(company.encryptedOnly)
    const bindings = await stack.registrar.registrar.lookupSubject(userSubject(member.id))
    assert.deepEqual(
      bindings.map((binding) => binding.source.protocol),
      ['tls'],
      'the plain registration ended at once, the TLS one goes on'
    )
    const audit = await AuditEntry.query()
      .where('company_id', company.id)
      .where('action', 'company.encrypted_only.changed')
    assert.deepEqual(
      audit.map((entry) => entry.details),
      [{ from: false, to: true }]
    )

    const again = await registerAs(plain, 'udp', 'plain-2')
    assert.equal(again.final.status, 403)
    assert.equal(again.final.reason, 'Encryption required: register over TLS')
    await noted(plain, (device) => device.lastRefusal === 'plain_registration')
    const after = await client.get('/app/devices').loginAs(member)
    assert.include(after.text(), 'data-refusal="plain_registration"')
    assert.include(after.text(), 'abgewiesen: Anmeldung ohne TLS')
    assert.include(after.text(), 'Nur verschlüsselte Verbindungen: Ihre Telefone')

    // Switched to TLS, the old phone registers again and the refusal is history.
    assert.equal((await registerAs(plain, 'tls', 'plain-3')).final.status, 200)
    // The registrar notes a registration after its 200 (not awaited: see Registrar.handle).
    await noted(plain, (device) => device.lastTransport === 'tls')
    const fixed = await client.get('/app/devices').loginAs(member)
    assert.notInclude(fixed.text(), 'data-refusal=')
  })

  test('companies that sign up start "encrypted only"; those from before keep their setting', async ({
    assert,
  }) => {
    const existing = await makeCompany()
    assert.isFalse((await Company.findOrFail(existing.id)).encryptedOnly)
    const signedUp = await new CompanyService().signUp(
      {
        legal_name: 'Neu GmbH',
        legal_form: 'GmbH',
        country: 'DE',
        billing_street: 'Weg 1',
        billing_postal_code: '10115',
        billing_city: 'Berlin',
        privacy_contact_name: 'Frau Daten',
        privacy_contact_email: `daten-${randomInt(1e9)}@neu.example`,
        data_residency: 'eu_only',
        full_name: 'Nina Neu',
        email: `nina-${randomInt(1e9)}@neu.example`,
        password: 'a long enough passphrase 42',
      },
      `198.18.${randomInt(256)}.${randomInt(1, 255)}`
    )
    assert.isNotNull(signedUp)
    const company = await Company.findOrFail(signedUp!.company.id)
    assert.isTrue(company.encryptedOnly)
  })

  test('a device that calls again within 5 s is not written again, unless its encryption changed', async ({
    assert,
  }) => {
    const member = await makeUser('member')
    const service = new SipDeviceService()
    const { device } = await service.create(member, 'Desk phone')
    const subject = (await service.findByUsername(device.sipUsername))!.subject
    const lastCall = async () => {
      const row = await SipDevice.findOrFail(device.id)
      return { at: row.lastCallAt?.toMillis(), encrypted: row.lastCallEncrypted }
    }
    // Whole seconds: SQLite keeps no milliseconds
    const t0 = new Date('2026-12-03T10:00:00.000Z')
    const at = (ms: number) => new Date(t0.getTime() + ms)

    await service.called(subject, false, t0)
    assert.deepEqual(await lastCall(), { at: t0.getTime(), encrypted: false })
    await service.called(subject, false, at(3_000))
    assert.deepEqual(await lastCall(), { at: t0.getTime(), encrypted: false }, 'within 5 s')
    await service.called(subject, true, at(4_000))
    assert.deepEqual(await lastCall(), { at: at(4_000).getTime(), encrypted: true }, 'now SRTP')
    await service.called(subject, true, at(9_000))
    assert.deepEqual(await lastCall(), { at: at(9_000).getTime(), encrypted: true }, '5 s later')
    // Another service (a node of its own) keeps no notes of this one's
    await new SipDeviceService().called(subject, true, at(10_000))
    assert.equal((await lastCall()).at, at(10_000).getTime())
  })

  test('the devices page needs a logged-in customer account', async ({ client }) => {
    const staff = await makeUser('support')
    const response = await client.get('/app/devices').loginAs(staff).redirects(0)
    response.assertStatus(302)
    const anonymous = await client.get('/app/devices').redirects(0)
    anonymous.assertHeader('location', '/login')
  })
})
