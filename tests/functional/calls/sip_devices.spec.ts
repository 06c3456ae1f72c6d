import { randomInt } from 'node:crypto'
import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import db from '@adonisjs/lucid/services/db'
import encryption from '@adonisjs/core/services/encryption'
import { DateTime } from 'luxon'
import app from '@adonisjs/core/services/app'
import SipDevice from '#calls/models/sip_device'
import SipDeviceAddress from '#calls/models/sip_device_address'
import AuthFailureLimiter from '#sip/registrar/auth_failure_limiter'
import { registrarSettings } from '#calls/signalling/registrar_settings'
import SipDeviceService from '#calls/services/sip_device_service'
import { DigestAlgorithm, computeHa1 } from '#sip/auth/digest'
import Registrar from '#sip/registrar/registrar'
import RegistrarFactory, { type RegistrarParts } from '#calls/signalling/registrar_factory'
import type { SipDestination } from '#sip/transaction/transaction_transport'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { auditMark, auditSince } from '#tests/support/audit'
import {
  challengeShape,
  registerWithPassword,
} from '#tests/unit/calls/sip/registrar/registrar_fixtures'
import { sipSubject, sipSubjectParts, userSubject } from '#calls/signalling/sip_subject'

const REALM = 'sip.fluffycall.test'

/**
 * A random source address per test: the failure counters may live in Redis, which outlives the
 * run, so a source must not repeat from one test or run to the next.
 */
function freshSource(): SipDestination {
  return { protocol: 'udp', host: `198.18.${randomInt(256)}.${randomInt(1, 255)}`, port: 5062 }
}

let mark = 0
let parts: RegistrarParts

test.group('SIP devices', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(async () => {
    mark = await auditMark()
    parts = await RegistrarFactory.create({ realm: REALM })
  })

  test('a new device gets a generated username and a password shown once; only encrypted HA1s are stored', async ({
    assert,
  }) => {
    const user = await makeUser('owner')
    const service = new SipDeviceService(REALM)
    const { device, password } = await service.create(user, 'Desk phone')

    assert.match(device.sipUsername, /^fc[a-z2-9]{10}$/)
    assert.isAtLeast(password.length, 20)
    const md5 = computeHa1(DigestAlgorithm.Md5, device.sipUsername, REALM, password)
    const sha256 = computeHa1(DigestAlgorithm.Sha256, device.sipUsername, REALM, password)

    const row = await db.from('sip_devices').where('id', device.id).firstOrFail()
    const raw = JSON.stringify(row)
    for (const secret of [password, md5, sha256]) {
      assert.notInclude(raw, secret)
    }
    assert.equal(encryption.decrypt(row.ha1_md5, 'sip-ha1'), md5)
    assert.equal(encryption.decrypt(row.ha1_sha256, 'sip-ha1'), sha256)
    assert.isNull(encryption.decrypt(row.ha1_md5, 'totp'), 'sealed for its own purpose only')
    assert.notProperty(device.serialize(), 'ha1Md5')
    assert.notProperty(device.serialize(), 'ha1Sha256')
    assert.equal(row.company_id, user.companyId)

    const created = await auditSince(mark).where('action', 'sip.device.created').firstOrFail()
    assert.notInclude(JSON.stringify(created.serialize()), password)
  })

  test('the credential lookup opens the HA1s of live devices only', async ({ assert }) => {
    const user = await makeUser('owner')
    const service = new SipDeviceService(REALM)
    const { device, password } = await service.create(user, 'Softphone')
    const credential = await service.findByUsername(device.sipUsername)
    assert.deepEqual(credential, {
      username: device.sipUsername,
      realm: REALM,
      ha1: {
        [DigestAlgorithm.Md5]: computeHa1(DigestAlgorithm.Md5, device.sipUsername, REALM, password),
        [DigestAlgorithm.Sha256]: computeHa1(
          DigestAlgorithm.Sha256,
          device.sipUsername,
          REALM,
          password
        ),
      },
      subject: sipSubject({ userId: user.id, companyId: user.companyId!, deviceId: device.id }),
      knownAddresses: [],
      encryptedTransportOnly: false,
    })
    assert.isUndefined(await service.findByUsername('fcnosuchname'))

    await service.revoke(device, { actor: user, ip: '192.0.2.1' })
    assert.isUndefined(await service.findByUsername(device.sipUsername))
    assert.isNotNull((await SipDevice.findOrFail(device.id)).revokedAt)
    assert.equal(
      (await auditSince(mark).where('action', 'sip.device.revoked').firstOrFail()).targetId,
      String(device.id)
    )

    const other = await service.create(user, 'Second')
    user.disabledAt = DateTime.utc()
    await user.save()
    assert.isUndefined(
      await service.findByUsername(other.device.sipUsername),
      'a disabled user has no SIP login'
    )
  })

  test('the right password registers: 200, a binding for the device, last_registered_at set', async ({
    assert,
  }) => {
    const user = await makeUser('member')
    const { device, password } = await new SipDeviceService(REALM).create(user, 'Desk phone')
    const source = freshSource()
    const { first, final } = await registerWithPassword(parts.registrar, {
      username: device.sipUsername,
      password,
      source,
      expires: 600,
    })
    assert.equal(first.status, 401)
    assert.equal(final.status, 200)
    const bindings = await parts.registrar.lookup(Registrar.aorFor(device.sipUsername, REALM))
    assert.lengthOf(bindings, 1)
    assert.deepEqual(sipSubjectParts(bindings[0].subject), {
      userId: user.id,
      companyId: user.companyId!,
      deviceId: device.id,
    })
    assert.deepEqual(bindings[0].source, source)
    assert.lengthOf(await parts.registrar.lookupSubject(userSubject(user.id)), 1)
    // Noted after the 200 went out (the registrar does not wait for it).
    for (let tries = 0; tries < 50 && !device.lastRegisteredAt; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 20))
      await device.refresh()
    }
    assert.isNotNull(device.lastRegisteredAt)
    assert.lengthOf(await auditSince(mark).where('action', 'like', 'sip.auth.%'), 0)
    // The address counts as known from now on (it passes a lock with the right password).
    assert.deepEqual(
      (await new SipDeviceService(REALM).findByUsername(device.sipUsername))?.knownAddresses,
      [source.host]
    )
  })

  test("a terminated company's phone is refused at its next REGISTER (the eviction itself: web_phone_credential.spec)", async ({
    assert,
  }) => {
    const company = await makeCompany('active')
    const user = await makeUser('member', company)
    const { device, password } = await new SipDeviceService(REALM).create(user, 'Desk phone')
    const register = async () =>
      (
        await registerWithPassword(parts.registrar, {
          username: device.sipUsername,
          password,
          source: freshSource(),
          expires: 600,
        })
      ).final.status
    assert.equal(await register(), 200)
    company.status = 'terminated'
    await company.save()
    assert.equal(await register(), 401)
  })

  test('a wrong password gets 401 and an audit entry with the source IP and no credentials', async ({
    assert,
  }) => {
    const user = await makeUser('owner')
    const { device, password } = await new SipDeviceService(REALM).create(user, 'Desk phone')
    const source = freshSource()
    const { final } = await registerWithPassword(parts.registrar, {
      username: device.sipUsername,
      password: 'Wrong-Password-1',
      source,
    })
    assert.equal(final.status, 401)
    const entries = await auditSince(mark).where('action', 'sip.auth.failed')
    assert.lengthOf(entries, 1)
    assert.equal(entries[0].ip, source.host)
    assert.equal(entries[0].companyId, user.companyId)
    assert.equal(entries[0].targetType, 'sip_device')
    assert.deepInclude(entries[0].details!, {
      username: device.sipUsername,
      reason: 'wrong_credentials',
    })
    const stored = JSON.stringify(entries[0].serialize())
    assert.notInclude(stored, 'Wrong-Password-1')
    assert.notInclude(stored, password)
    assert.lengthOf(await parts.registrar.lookup(Registrar.aorFor(device.sipUsername, REALM)), 0)
  })

  test('an unknown username is answered exactly like a wrong password', async ({ assert }) => {
    const user = await makeUser('owner')
    const { device } = await new SipDeviceService(REALM).create(user, 'Desk phone')
    const wrong = await registerWithPassword(parts.registrar, {
      username: device.sipUsername,
      password: 'Wrong-Password-1',
      source: freshSource(),
    })
    const unknown = await registerWithPassword(parts.registrar, {
      username: 'fcnotadevice',
      password: 'Wrong-Password-1',
      source: freshSource(),
    })
    assert.equal(unknown.final.status, 401)
    assert.deepEqual(challengeShape(unknown.final), challengeShape(wrong.final))
    const reasons = (await auditSince(mark).where('action', 'sip.auth.failed').orderBy('id')).map(
      (entry) => entry.details?.reason
    )
    assert.deepEqual(reasons, ['wrong_credentials', 'unknown_username'])
  })

  test('5 wrong passwords lock the username, even for the right password; another device from another IP still registers', async ({
    assert,
  }) => {
    const company = await makeCompany()
    const user = await makeUser('owner', company)
    const colleague = await makeUser('member', company)
    const service = new SipDeviceService(REALM)
    const { device, password } = await service.create(user, 'Desk phone')
    const other = await service.create(colleague, 'Softphone')

    for (let attempt = 0; attempt < 5; attempt++) {
      const { final } = await registerWithPassword(parts.registrar, {
        username: device.sipUsername,
        password: `guess-${attempt}`,
        source: freshSource(),
      })
      assert.equal(final.status, 401)
    }
    const locked = await auditSince(mark).where('action', 'sip.auth.locked')
    assert.lengthOf(locked, 1)
    assert.deepInclude(locked[0].details!, { scope: 'username', username: device.sipUsername })
    assert.equal(locked[0].companyId, company.id)

    const { final: refused } = await registerWithPassword(parts.registrar, {
      username: device.sipUsername,
      password,
      source: freshSource(),
    })
    assert.equal(refused.status, 401)
    assert.lengthOf(await parts.registrar.lookup(Registrar.aorFor(device.sipUsername, REALM)), 0)

    const { final: unaffected } = await registerWithPassword(parts.registrar, {
      username: other.device.sipUsername,
      password: other.password,
      source: freshSource(),
    })
    assert.equal(unaffected.status, 200)
  })

  test('a phone passes the locks with the right password from an address it registered from before; a new address does not; at most 10 addresses, gone with the revocation', async ({
    assert,
  }) => {
    const company = await makeCompany()
    const user = await makeUser('owner', company)
    const service = new SipDeviceService(REALM)
    const { device, password } = await service.create(user, 'Desk phone')
    const office = freshSource()
    const registered = await registerWithPassword(parts.registrar, {
      username: device.sipUsername,
      password,
      source: office,
    })
    assert.equal(registered.final.status, 200)
    await knownAddressesOf(service, device.sipUsername, [office.host])

    const limiter = new AuthFailureLimiter(
      await app.container.make('counters'),
      registrarSettings().lockout
    )
    for (let attempt = 0; attempt < 5; attempt++) {
      await registerWithPassword(parts.registrar, {
        username: device.sipUsername,
        password: `guess-${attempt}`,
        source: freshSource(),
      })
    }
    for (let attempt = 0; attempt < 10; attempt++) {
      await registerWithPassword(parts.registrar, {
        username: `fcmistyped${attempt}`,
        password: 'guess',
        source: office,
      })
    }
    assert.sameMembers(await limiter.locks(office.host, device.sipUsername), ['source', 'username'])
    const before = (await auditSince(mark)).length

    const fromOffice = await registerWithPassword(parts.registrar, {
      username: device.sipUsername,
      password,
      source: office,
      callId: 'again@office',
      cseq: 10,
    })
    assert.equal(fromOffice.final.status, 200)
    assert.lengthOf(await auditSince(mark), before, 'no event')
    const fromElsewhere = await registerWithPassword(parts.registrar, {
      username: device.sipUsername,
      password,
      source: freshSource(),
    })
    assert.equal(fromElsewhere.final.status, 401)

    for (let index = 0; index < 11; index++) {
      await service.noteRegistered(
        (await service.findByUsername(device.sipUsername))!,
        new Date(Date.now() + (index + 1) * 1000),
        { ...office, host: `203.0.113.${index + 1}` }
      )
    }
    const kept = await SipDeviceAddress.query()
      .where('sip_device_id', device.id)
      .orderBy('last_registered_at', 'desc')
    assert.lengthOf(kept, 10)
    assert.equal(kept[0].address, '203.0.113.11')
    assert.notInclude(
      kept.map((row) => row.address),
      office.host,
      'the oldest went'
    )

    await service.revoke(device, { actor: user })
    assert.lengthOf(await SipDeviceAddress.query().where('sip_device_id', device.id), 0)
    await limiter.lift('source', office.host)
  })
})

/** Waits for the address noted after the 200 (the registrar does not wait for it). */
async function knownAddressesOf(service: SipDeviceService, username: string, expected: string[]) {
  let known: readonly string[] | undefined
  for (let tries = 0; tries < 50; tries++) {
    known = (await service.findByUsername(username))?.knownAddresses
    if (known?.length === expected.length) break
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  if (JSON.stringify(known) !== JSON.stringify(expected)) {
    throw new Error(
      `known addresses ${JSON.stringify(known)}, expected ${JSON.stringify(expected)}`
    )
  }
}
