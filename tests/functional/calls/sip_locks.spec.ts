import { randomInt } from 'node:crypto'
import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import testUtils from '@adonisjs/core/services/test_utils'
import db from '@adonisjs/lucid/services/db'
import Permission from '#accounts/models/permission'
import Role from '#accounts/models/role'
import SipDeviceService from '#calls/services/sip_device_service'
import AuthFailureLimiter from '#sip/registrar/auth_failure_limiter'
import { registrarSettings } from '#calls/signalling/registrar_settings'
import type { SipDestination } from '#sip/transaction/transaction_transport'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { auditMark, auditSince } from '#tests/support/audit'
import { enableTwoFactor } from '#tests/support/two_factor'
import { registerWithPassword } from '#tests/unit/calls/sip/registrar/registrar_fixtures'

/**
 * Brute-force locks of SIP logins for people: company admins see the locks that keep out their
 * company's phones on the devices page and lift them; staff with sip.locks.lift see every active
 * lock and lift it. Both audited. The locks are made the real way: wrong passwords at the registrar.
 */

/** A random source: the failure counters may live in Redis, which outlives the run. */
function freshSource(): SipDestination {
  return { protocol: 'udp', host: `198.18.${randomInt(256)}.${randomInt(1, 255)}`, port: 5062 }
}

async function registrar() {
  return (await app.container.make('sip.stack')).registrar.registrar
}

async function limiter() {
  return new AuthFailureLimiter(await app.container.make('counters'), registrarSettings().lockout)
}

/** Locks a username with wrong passwords from several sources. */
async function lockUsername(username: string) {
  for (let attempt = 0; attempt < registrarSettings().lockout.usernameMaxFailures; attempt++) {
    await registerWithPassword(await registrar(), {
      username,
      password: `guess-${attempt}`,
      source: freshSource(),
    })
  }
}

/** Locks a source address with wrong passwords for names that do not exist. */
async function lockSource(source: SipDestination) {
  for (let attempt = 0; attempt < registrarSettings().lockout.sourceMaxFailures; attempt++) {
    await registerWithPassword(await registrar(), {
      username: `fcnobody${randomInt(1e9)}`,
      password: 'guess',
      source,
    })
  }
}

const lifts: Array<['source' | 'username', string]> = []

test.group('SIP locks: the devices page and the admin area', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.teardown(async () => {
    const locks = await limiter()
    for (const [scope, subject] of lifts.splice(0)) await locks.lift(scope, subject)
  })

  test('company admins see the locks that keep out their company’s phones and lift them (audited); members see their own without lifting; another company’s lock stays', async ({
    client,
    assert,
  }) => {
    const company = await makeCompany()
    const admin = await makeUser('admin', company)
    const member = await makeUser('member', company)
    const service = new SipDeviceService()
    const { device, password } = await service.create(member, 'Empfang')
    const other = await service.create(await makeUser('member', await makeCompany()), 'Fremd')
    const office = freshSource()
    assert.equal(
      (
        await registerWithPassword(await registrar(), {
          username: device.sipUsername,
          password,
          source: office,
        })
      ).final.status,
      200
    )
    for (
      let tries = 0;
      tries < 50 && !(await service.findByUsername(device.sipUsername))?.knownAddresses?.length;
      tries++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    await lockUsername(device.sipUsername)
    await lockSource(office)
    await lockUsername(other.device.sipUsername)
    lifts.push(
      ['username', device.sipUsername],
      ['source', office.host],
      ['username', other.device.sipUsername]
    )

    const adminPage = (await client.get('/app/devices').loginAs(admin)).text()
    assert.include(adminPage, `data-lock="username:${device.sipUsername}"`)
    assert.include(adminPage, `data-lock="source:${office.host}"`)
    assert.include(adminPage, `Benutzername ${device.sipUsername}`)
    assert.include(adminPage, 'Empfang')
    assert.include(adminPage, 'Sperre aufheben')
    assert.notInclude(adminPage, other.device.sipUsername)
    assert.notInclude(adminPage, 'phone.devices.locks', 'no raw translation keys')

    const memberPage = (await client.get('/app/devices').loginAs(member)).text()
    assert.include(memberPage, `data-lock="username:${device.sipUsername}"`)
    assert.notInclude(memberPage, 'Sperre aufheben')
    const refused = await client
      .post('/app/devices/locks/lift')
      .form({ scope: 'username', subject: device.sipUsername })
      .withCsrfToken()
      .loginAs(member)
    refused.assertStatus(403)

    const mark = await auditMark()
    const foreign = await client
      .post('/app/devices/locks/lift')
      .form({ scope: 'username', subject: other.device.sipUsername })
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    foreign.assertHeader('location', '/app/devices')
    assert.isTrue(
      await (await limiter()).isScopeLocked('username', other.device.sipUsername),
      'not theirs to lift'
    )

    for (const [scope, subject] of [
      ['username', device.sipUsername],
      ['source', office.host],
    ] as const) {
      const lifted = await client
        .post('/app/devices/locks/lift')
        .form({ scope, subject })
        .withCsrfToken()
        .loginAs(admin)
        .redirects(0)
      lifted.assertHeader('location', '/app/devices')
      assert.isFalse(await (await limiter()).isScopeLocked(scope, subject), `${scope} lifted`)
    }
    const entries = await auditSince(mark).where('action', 'sip.auth.unlocked').orderBy('id')
    assert.deepEqual(
      entries.map((entry) => [
        entry.actorId,
        entry.companyId,
        entry.targetType,
        entry.targetId,
        entry.details,
      ]),
      [
        [
          admin.id,
          company.id,
          'sip_device',
          String(device.id),
          { scope: 'username', username: device.sipUsername },
        ],
        [
          admin.id,
          company.id,
          'sip_device',
          String(device.id),
          { scope: 'source', address: office.host },
        ],
      ]
    )
    const after = await registerWithPassword(await registrar(), {
      username: device.sipUsername,
      password,
      source: freshSource(),
      callId: 'after-lift@test',
    })
    assert.equal(after.final.status, 200, 'the phone registers from anywhere again')
    assert.include((await client.get('/app/devices').loginAs(admin)).text(), 'Keine Sperren.')
  })

  test('support staff see every active lock with its company and lift it (sip.locks.lift, audited); staff without the permission are refused', async ({
    client,
    assert,
  }) => {
    const company = await makeCompany()
    const { device } = await new SipDeviceService().create(
      await makeUser('member', company),
      'Empfang'
    )
    const scanner = freshSource()
    await lockUsername(device.sipUsername)
    await lockSource(scanner)
    lifts.push(['username', device.sipUsername], ['source', scanner.host])
    const support = await makeUser('support')
    await enableTwoFactor(support)

    const page = await client.get('/admin/sip-locks').loginAs(support)
    page.assertStatus(200)
    assert.include(page.text(), `data-lock="username:${device.sipUsername}"`)
    assert.include(page.text(), `data-lock="source:${scanner.host}"`)
    assert.include(page.text(), company.legalName)
    assert.include(
      page.text(),
      'unbekannt (kein Telefon eines Kunden)',
      'a scanner guessing names that do not exist'
    )
    assert.notInclude(page.text(), 'phone.devices.locks', 'no raw translation keys')

    const mark = await auditMark()
    const lifted = await client
      .post('/admin/sip-locks/lift')
      .form({ scope: 'source', subject: scanner.host })
      .withCsrfToken()
      .loginAs(support)
      .redirects(0)
    lifted.assertHeader('location', '/admin/sip-locks')
    assert.isFalse(await (await limiter()).isScopeLocked('source', scanner.host))
    const [entry] = await auditSince(mark).where('action', 'sip.auth.unlocked')
    assert.equal(entry.actorId, support.id)
    assert.deepEqual(entry.details, { scope: 'source', address: scanner.host })
    assert.notInclude(
      (await client.get('/admin/sip-locks').loginAs(support)).text(),
      `source:${scanner.host}`
    )

    const analyst = await makeUser('fraud_analyst')
    await enableTwoFactor(analyst)
    ;(await client.get('/admin/sip-locks').loginAs(analyst)).assertStatus(403)
    const role = await Role.findByOrFail('name', 'support')
    const permission = await Permission.findByOrFail('name', 'sip.locks.lift')
    await db
      .from('role_permissions')
      .where({ role_id: role.id, permission_id: permission.id })
      .delete()
    const withoutGrant = await client
      .post('/admin/sip-locks/lift')
      .form({ scope: 'username', subject: device.sipUsername })
      .withCsrfToken()
      .loginAs(support)
    withoutGrant.assertStatus(403)
    assert.isTrue(await (await limiter()).isScopeLocked('username', device.sipUsername))
  })
})
