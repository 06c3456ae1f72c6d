import { randomInt } from 'node:crypto'
import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import testUtils from '@adonisjs/core/services/test_utils'
import SipDevice from '#calls/models/sip_device'
import SipDeviceService from '#calls/services/sip_device_service'
import { makeCompany, makeUser } from '#tests/support/accounts'
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

  test('the devices page needs a logged-in customer account', async ({ client }) => {
    const staff = await makeUser('support')
    const response = await client.get('/app/devices').loginAs(staff).redirects(0)
    response.assertStatus(302)
    const anonymous = await client.get('/app/devices').redirects(0)
    anonymous.assertHeader('location', '/login')
  })
})
