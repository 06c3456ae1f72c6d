import { test } from '@japa/runner'
import type SipResponse from '#sip/message/sip_response'
import Registrar from '#sip/registrar/registrar'
import { destinationOf } from '#sip/registrar/binding'
import {
  REALM,
  makeDevice,
  makeHarness,
  registerWithPassword,
  udpSource,
} from '#tests/unit/calls/sip/registrar/registrar_fixtures'
import { sipSubjectParts, userSubject } from '#calls/signalling/sip_subject'

/** Contact URI → expires of a 200. */
function contactsOf(response: SipResponse): Record<string, number> {
  return Object.fromEntries(
    response.contacts.map((contact) => [contact.uri.toString(), Number(contact.param('expires'))])
  )
}

test.group('Registrar', () => {
  test('REGISTER with the right password: 401 first, then 200 listing the binding, which lookup finds', async ({
    assert,
  }) => {
    const device = makeDevice()
    const { registrar, credentials, clock } = makeHarness([device])
    const { first, final } = await registerWithPassword(registrar, {
      username: device.username,
      password: device.password,
      contacts: ['<sip:phone@192.0.2.50:5062>;+sip.instance="<urn:uuid:0001>"'],
      expires: 600,
    })
    assert.equal(first.status, 401)
    assert.equal(final.status, 200)
    assert.deepEqual(contactsOf(final), { 'sip:phone@192.0.2.50:5062': 600 })
    assert.equal(final.contacts[0].param('+sip.instance'), '"<urn:uuid:0001>"')
    assert.isTrue(final.headers.has('Date'))
    assert.equal(final.callId, 'reg-call-1@192.0.2.50')

    const aor = Registrar.aorFor(device.username, REALM)
    const [binding] = await registrar.lookup(aor)
    assert.equal(binding.contactUri, 'sip:phone@192.0.2.50:5062')
    assert.equal(binding.expiresAt, clock.time + 600_000)
    assert.deepEqual(binding.source, udpSource())
    assert.equal(sipSubjectParts(binding.subject)?.userId, device.owner.userId)
    assert.equal(sipSubjectParts(binding.subject)?.deviceId, device.owner.deviceId)
    assert.deepEqual(
      credentials.registered.map((entry) => entry.username),
      [device.username]
    )
  })

  test('a wrong password gets 401 and leaves no binding', async ({ assert }) => {
    const device = makeDevice()
    const { registrar, audit } = makeHarness([device])
    const { final } = await registerWithPassword(registrar, {
      username: device.username,
      password: 'nope',
    })
    assert.equal(final.status, 401)
    assert.lengthOf(final.wwwAuthenticate, 2)
    assert.lengthOf(await registrar.lookup(Registrar.aorFor(device.username, REALM)), 0)
    assert.equal(audit[0].action, 'sip.auth.failed')
  })

  test('"encrypted transport only": the right password over UDP gets 403 with the reason, over TLS a binding', async ({
    assert,
  }) => {
    const device = makeDevice()
    device.credential.encryptedTransportOnly = true
    const { registrar, credentials, audit, limiter } = makeHarness([device])
    const aor = Registrar.aorFor(device.username, REALM)
    const plain = await registerWithPassword(registrar, {
      username: device.username,
      password: device.password,
    })
    assert.equal(plain.first.status, 401, 'the password is asked for first: no policy leaks')
    assert.equal(plain.final.status, 403)
    assert.equal(plain.final.reason, 'Encryption required: register over TLS')
    assert.lengthOf(await registrar.lookup(aor), 0)
    assert.deepEqual(credentials.refused, [
      { username: device.username, protocol: 'udp', reason: 'plain_registration' },
    ])
    assert.lengthOf(credentials.registered, 0)
    assert.lengthOf(audit, 0, 'a policy refusal is no failed login')
    assert.isFalse(await limiter.isLocked(udpSource().host, device.username))

    const { final } = await registerWithPassword(registrar, {
      username: device.username,
      password: device.password,
      callId: 'reg-call-2@192.0.2.50',
      source: { protocol: 'tls', host: '198.51.100.7', port: 5061, connectionId: 'tls-1' },
    })
    assert.equal(final.status, 200)
    assert.lengthOf(await registrar.lookup(aor), 1)

    const wrong = await registerWithPassword(registrar, {
      username: device.username,
      password: 'not the password',
      callId: 'reg-call-3@192.0.2.50',
    })
    assert.equal(
      wrong.final.status,
      401,
      'a wrong password over UDP is still just a wrong password'
    )
  })

  test("credentials of one device cannot register another device's AOR", async ({ assert }) => {
    const device = makeDevice()
    const victim = makeDevice()
    const { registrar } = makeHarness([device, victim])
    const { final } = await registerWithPassword(registrar, {
      username: device.username,
      password: device.password,
      toUser: victim.username,
    })
    assert.equal(final.status, 403)
    assert.lengthOf(await registrar.lookup(Registrar.aorFor(victim.username, REALM)), 0)
  })

  test('several bindings per AOR; the 200 lists all with what each has left; lookupSubject spans devices', async ({
    assert,
  }) => {
    const desk = makeDevice(7)
    const soft = makeDevice(7)
    const { registrar, clock } = makeHarness([desk, soft])
    await registerWithPassword(registrar, {
      username: desk.username,
      password: desk.password,
      contacts: ['<sip:desk@192.0.2.50:5062>'],
      expires: 3600,
    })
    clock.advance(100_000)
    const { final } = await registerWithPassword(registrar, {
      username: desk.username,
      password: desk.password,
      callId: 'second-line@192.0.2.51',
      contacts: ['<sip:desk-line2@192.0.2.51:5062>;expires=120'],
    })
    assert.deepEqual(contactsOf(final), {
      'sip:desk-line2@192.0.2.51:5062': 120,
      'sip:desk@192.0.2.50:5062': 3500,
    })
    await registerWithPassword(registrar, {
      username: soft.username,
      password: soft.password,
      contacts: ['<sip:soft@192.0.2.60:5070;transport=tcp>'],
    })
    const all = await registrar.lookupSubject(userSubject(7))
    assert.sameMembers(
      all.map((binding) => binding.contactUri),
      [
        'sip:desk@192.0.2.50:5062',
        'sip:desk-line2@192.0.2.51:5062',
        'sip:soft@192.0.2.60:5070;transport=tcp',
      ]
    )
  })

  test('bindings expire on the injected clock; a refresh extends them', async ({ assert }) => {
    const device = makeDevice()
    const { registrar, clock } = makeHarness([device])
    const aor = Registrar.aorFor(device.username, REALM)
    await registerWithPassword(registrar, {
      username: device.username,
      password: device.password,
      expires: 300,
    })
    clock.advance(299_000)
    assert.lengthOf(await registrar.lookup(aor), 1)
    // The phone refreshes with the same Call-ID and a higher CSeq.
    const { final } = await registerWithPassword(registrar, {
      username: device.username,
      password: device.password,
      expires: 300,
      cseq: 3,
    })
    assert.equal(final.status, 200)
    clock.advance(2_000)
    assert.lengthOf(await registrar.lookup(aor), 1, 'refreshed binding survives its first expiry')
    clock.advance(298_001)
    assert.lengthOf(await registrar.lookup(aor), 0, 'gone once the refreshed expiry passed')
  })

  test('Expires: 0 on one contact removes that binding; Contact: * with Expires: 0 removes all', async ({
    assert,
  }) => {
    const device = makeDevice()
    const { registrar } = makeHarness([device])
    const aor = Registrar.aorFor(device.username, REALM)
    const auth = { username: device.username, password: device.password }
    await registerWithPassword(registrar, {
      ...auth,
      contacts: ['<sip:a@192.0.2.1>', '<sip:b@192.0.2.2>', '<sip:c@192.0.2.3>'],
    })
    const { final: removedOne } = await registerWithPassword(registrar, {
      ...auth,
      cseq: 3,
      contacts: ['<sip:a@192.0.2.1>;expires=0'],
    })
    assert.equal(removedOne.status, 200)
    assert.sameMembers(Object.keys(contactsOf(removedOne)), ['sip:b@192.0.2.2', 'sip:c@192.0.2.3'])

    const { final: wildcardWithoutZero } = await registerWithPassword(registrar, {
      ...auth,
      cseq: 5,
      contacts: ['*'],
      expires: 60,
    })
    assert.equal(wildcardWithoutZero.status, 400)
    assert.lengthOf(await registrar.lookup(aor), 2)

    const { final: removedAll } = await registerWithPassword(registrar, {
      ...auth,
      cseq: 7,
      contacts: ['*'],
      expires: 0,
    })
    assert.equal(removedAll.status, 200)
    assert.lengthOf(removedAll.contacts, 0)
    assert.lengthOf(await registrar.lookup(aor), 0)
  })

  test('too brief an expiry gets 423 with Min-Expires and changes nothing; too long is cut to the maximum', async ({
    assert,
  }) => {
    const device = makeDevice()
    const { registrar } = makeHarness([device])
    const aor = Registrar.aorFor(device.username, REALM)
    const auth = { username: device.username, password: device.password }
    const { final: brief } = await registerWithPassword(registrar, {
      ...auth,
      contacts: ['<sip:ok@192.0.2.1>;expires=600', '<sip:brief@192.0.2.2>;expires=30'],
    })
    assert.equal(brief.status, 423)
    assert.equal(brief.reason, 'Interval Too Brief')
    assert.equal(brief.headers.get('Min-Expires'), '60')
    assert.lengthOf(await registrar.lookup(aor), 0)

    const { final: long } = await registerWithPassword(registrar, {
      ...auth,
      cseq: 3,
      expires: 86_400,
    })
    assert.equal(long.status, 200)
    assert.deepEqual(Object.values(contactsOf(long)), [3600])
  })

  test('a REGISTER with the same Call-ID and an old CSeq is refused', async ({ assert }) => {
    const device = makeDevice()
    const { registrar } = makeHarness([device])
    const auth = { username: device.username, password: device.password }
    await registerWithPassword(registrar, { ...auth, cseq: 10 })
    const { final } = await registerWithPassword(registrar, { ...auth, cseq: 4, expires: 0 })
    assert.equal(final.status, 400)
    assert.lengthOf(await registrar.lookup(Registrar.aorFor(device.username, REALM)), 1)
  })

  test('a WebSocket client with a *.invalid Contact is reached over its stored connection', async ({
    assert,
  }) => {
    const device = makeDevice()
    const { registrar } = makeHarness([device])
    const source = {
      protocol: 'wss' as const,
      host: '203.0.113.80',
      port: 50123,
      connectionId: 'ws-42',
    }
    const { final } = await registerWithPassword(registrar, {
      username: device.username,
      password: device.password,
      contacts: ['<sip:k3mx9q@df7jal23ls0d.invalid;transport=ws>;expires=600'],
      source,
    })
    assert.equal(final.status, 200)
    const [binding] = await registrar.lookup(Registrar.aorFor(device.username, REALM))
    assert.equal(binding.contactUri, 'sip:k3mx9q@df7jal23ls0d.invalid;transport=ws')
    assert.deepEqual(destinationOf(binding), source)
  })

  test('a REGISTER without Contact is a query: 200 with the current bindings', async ({
    assert,
  }) => {
    const device = makeDevice()
    const { registrar } = makeHarness([device])
    const auth = { username: device.username, password: device.password }
    await registerWithPassword(registrar, auth)
    const { final } = await registerWithPassword(registrar, { ...auth, cseq: 3, contacts: [] })
    assert.equal(final.status, 200)
    assert.deepEqual(Object.keys(contactsOf(final)), ['sip:phone@192.0.2.50:5062'])
  })

  test('more contacts than an AOR may hold are refused', async ({ assert }) => {
    const device = makeDevice()
    const { registrar } = makeHarness([device])
    const contacts = Array.from(
      { length: 11 },
      (_, index) => `<sip:c${index}@192.0.2.${index + 1}>`
    )
    const { final } = await registerWithPassword(registrar, {
      username: device.username,
      password: device.password,
      contacts,
    })
    assert.equal(final.status, 403)
    assert.lengthOf(await registrar.lookup(Registrar.aorFor(device.username, REALM)), 0)
  })
})
