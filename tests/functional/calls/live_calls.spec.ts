import { test } from '@japa/runner'
import type { TestContext } from '@japa/runner/core'
import app from '@adonisjs/core/services/app'
import testUtils from '@adonisjs/core/services/test_utils'
import CompanyService from '#accounts/services/company_service'
import SipDeviceService from '#calls/services/sip_device_service'
import { configuredRealm } from '#calls/signalling/registrar_settings'
import CallRecord from '#calls/models/call_record'
import ActiveCallLeg from '#calls/models/active_call_leg'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { auditMark, auditSince } from '#tests/support/audit'
import { loopbackCarriers, ourNumber, startB2bua } from '#tests/support/calls'
import { startSipp, type SippProcess } from '#tests/support/sip_peers'
import { enableTwoFactor } from '#tests/support/two_factor'

/**
 * The live calls page with a real call through the B2BUA of the test process: a customer's SIP
 * phone (sipp) calls out through a sipp carrier; staff with calls.live.manage see it with
 * shortened numbers and end it, which sends BYE on both legs (each sipp exits 0 only after its
 * BYE), closes the CDR as ended_by_staff and writes an audit entry.
 */

const CALLER = '+4930111222333'
const CALLEE = '+4930444555666'

async function staff(role: 'superadmin' | 'support') {
  const user = await makeUser(role)
  await enableTwoFactor(user)
  return user
}

async function udpPort() {
  const stack = await app.container.make('sip.stack')
  const address = stack.layer.localAddress('udp')
  if (!address) throw new Error('SIP UDP is not listening')
  return address.port
}

/** A call that runs until we hang up: phone → B2BUA → carrier, answered. */
async function runningCall(cleanup: TestContext['cleanup']) {
  const company = await makeCompany('active')
  const user = await makeUser('member', company)
  const { device, password } = await new SipDeviceService().create(user, 'Desk phone')
  const carrier = await startSipp({
    scenario: 'carrier_answer_echo.xml',
    transport: 'u1',
    timeoutSeconds: 40,
    traceMessages: true,
    extraArgs: ['-rtp_echo'],
  })
  cleanup(carrier.stop)
  const restoreCarriers = await loopbackCarriers({ live_carrier: carrier.port })
  cleanup(() => {
    restoreCarriers()
  })
  await ourNumber(CALLER, 'live_carrier', company, user.id)
  const port = await udpPort()
  const phone = await startSipp({
    scenario: 'phone_call_until_bye.xml',
    transport: 'u1',
    target: `127.0.0.1:${port}`,
    localIp: '127.0.0.2',
    timeoutSeconds: 40,
    traceMessages: true,
    keys: { domain: configuredRealm(), callee: CALLEE },
    extraArgs: [
      '-auth_uri',
      `${CALLEE}@127.0.0.1:${port}`,
      '-s',
      device.sipUsername,
      '-au',
      device.sipUsername,
      '-ap',
      password,
    ],
  })
  cleanup(phone.stop)
  const b2bua = await app.container.make('calls.b2bua')
  // Whatever happens in the test, no call outlives it.
  cleanup(async () => {
    await Promise.allSettled(b2bua.calls.map((call) => call.session.hangUp('system_shutdown')))
  })

  const deadline = Date.now() + 15_000
  for (;;) {
    const live = b2bua.calls.find(
      (call) => call.record.companyId === company.id && call.session.answered
    )
    if (live) return { company, record: live.record, phone, carrier }
    if (Date.now() > deadline) {
      throw new Error(
        `no answered call within 15 s\ncarrier: ${carrier.messages().slice(-2000)}\nphone: ${phone.messages().slice(-2000)}`
      )
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

async function expectExit(sipp: SippProcess, assert: { equal: Function }) {
  const outcome = await sipp.done
  assert.equal(outcome.code, 0, `${sipp.describe(outcome)}\n${sipp.messages().slice(-3000)}`)
}

test.group('Live calls (admin)', (group) => {
  group.setup(async () => {
    await startB2bua()
  })
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('staff with calls.live.manage see the running call with shortened numbers and end it', async ({
    client,
    assert,
    cleanup,
  }) => {
    const admin = await staff('superadmin')
    const { company, record, phone, carrier } = await runningCall(cleanup)
    assert.equal(record.callerNumber, CALLER)
    assert.equal(record.calleeNumber, CALLEE)

    const page = await client.get('/admin/calls/live').loginAs(admin)
    page.assertStatus(200)
    const html = page.text()
    assert.include(html, `data-call="${record.uuid}"`)
    assert.include(html, company.legalName)
    assert.include(html, '+49 30 111222xxx')
    assert.include(html, '+49 30 444555xxx')
    assert.notInclude(html, CALLER, 'staff never see the full numbers')
    assert.notInclude(html, CALLEE)
    assert.include(html, 'live_carrier')

    // Loss and jitter so far, per side, once audio flows (the phone plays a pcap, the carrier echoes)
    const liveQuality = (text: string) =>
      /class="live-quality" data-caller-loss="([^"]*)" data-callee-loss="([^"]*)"[^>]*>([\s\S]*?)<\/small>/.exec(
        text
      )
    let quality = liveQuality(html)
    assert.exists(quality, 'the row shows the call quality so far')
    for (let tries = 0; tries < 50 && (!quality?.[1] || !quality?.[2]); tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      quality = liveQuality((await client.get('/admin/calls/live').loginAs(admin)).text())
    }
    assert.isAtLeast(Number(quality![1]), 0)
    assert.isAtLeast(Number(quality![2]), 0)
    assert.notEqual(quality![1], '', 'the caller’s audio is measured')
    assert.notEqual(quality![2], '', 'the carrier’s audio is measured')
    assert.match(quality![3].replace(/\s+/g, ' '), /Anrufer: [\d,]+ % Verlust, Jitter [\d,]+ ms/)

    const mark = await auditMark()
    const ended = await client
      .delete(`/admin/calls/live/${record.uuid}`)
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    ended.assertStatus(302)
    ended.assertHeader('location', '/admin/calls/live')
    ended.assertFlashMessage('notice', 'Das Gespräch wurde beendet.')

    await expectExit(phone, assert)
    await expectExit(carrier, assert)
    assert.match(phone.messages(), /BYE sip:\S+ SIP\/2\.0/)
    assert.include(carrier.messages(), 'BYE sip:')

    await record.refresh()
    assert.equal(record.disconnectCause, 'ended_by_staff')
    assert.equal(record.hungUpBy, 'system')
    assert.isNotNull(record.endedAt)
    assert.isNull(await ActiveCallLeg.findBy('call_record_id', record.id))

    const entries = await auditSince(mark).where('action', 'calls.ended_by_staff')
    assert.lengthOf(entries, 1)
    assert.equal(entries[0].actorId, admin.id)
    assert.equal(
      entries[0].companyId,
      company.id,
      'the customer’s admins see it in their audit log'
    )
    assert.equal(entries[0].targetType, 'call')
    assert.equal(entries[0].targetId, record.uuid)

    const after = await client.get('/admin/calls/live').loginAs(admin)
    assert.notInclude(after.text(), `data-call="${record.uuid}"`)
    assert.include(after.text(), 'id="no-live-calls"')
  }).timeout(60_000)

  test('staff without calls.live.manage and customers get 403 and cannot end a call', async ({
    client,
    assert,
    cleanup,
  }) => {
    const support = await staff('support')
    const { company, record } = await runningCall(cleanup)
    const customerAdmin = await makeUser('owner', company)
    const mark = await auditMark()

    for (const user of [support, customerAdmin]) {
      const page = await client.get('/admin/calls/live').loginAs(user)
      page.assertStatus(403)
      assert.notInclude(page.text(), record.uuid)
      const end = await client
        .delete(`/admin/calls/live/${record.uuid}`)
        .withCsrfToken()
        .loginAs(user)
        .redirects(0)
      end.assertStatus(403)
    }

    const b2bua = await app.container.make('calls.b2bua')
    assert.isTrue(
      b2bua.calls.some((call) => call.uuid === record.uuid),
      'the call is still running'
    )
    assert.isNull((await CallRecord.findOrFail(record.id)).endedAt)
    assert.lengthOf(await auditSince(mark).where('action', 'calls.ended_by_staff'), 0)
  }).timeout(60_000)

  test('calls refused for capacity since the start are shown, in words and per resource', async ({
    client,
    assert,
  }) => {
    const admin = await staff('superadmin')
    const b2bua = await app.container.make('calls.b2bua')
    const before = { ...b2bua.refusedForCapacity }
    b2bua.refusedForCapacity.rtp_ports = 1234
    b2bua.refusedForCapacity.calls = 0
    try {
      const page = await client.get('/admin/calls/live').loginAs(admin)
      page.assertStatus(200)
      const html = page.text()
      assert.include(html, 'id="capacity-refusals"')
      assert.include(html, 'keine freien RTP-Ports: 1.234')
      assert.notInclude(html, 'Anruflimit erreicht')
    } finally {
      Object.assign(b2bua.refusedForCapacity, before)
    }
  })

  test('terminating the company ends its running call at once (BYE on both legs, CDR company_terminated)', async ({
    assert,
    cleanup,
  }) => {
    const admin = await staff('superadmin')
    const { company, record, phone, carrier } = await runningCall(cleanup)
    await new CompanyService().changeStatus(company, 'terminated', admin, '192.0.2.1')

    await expectExit(phone, assert)
    await expectExit(carrier, assert)
    assert.match(phone.messages(), /BYE sip:\S+ SIP\/2\.0/)
    assert.include(carrier.messages(), 'BYE sip:')
    await record.refresh()
    assert.equal(record.disconnectCause, 'company_terminated')
    assert.isNotNull(record.endedAt)
    const b2bua = await app.container.make('calls.b2bua')
    assert.isFalse(b2bua.calls.some((call) => call.record.companyId === company.id))
  }).timeout(60_000)

  test('ending a call that no longer runs says so and audits nothing', async ({
    client,
    assert,
  }) => {
    const admin = await staff('superadmin')
    const mark = await auditMark()
    const response = await client
      .delete('/admin/calls/live/00000000-0000-4000-8000-000000000000')
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    response.assertStatus(302)
    response.assertFlashMessage('error', 'Dieses Gespräch läuft nicht mehr.')
    assert.lengthOf(await auditSince(mark).where('action', 'calls.ended_by_staff'), 0)
  })
})

test.group('Live calls (admin): worst quality first', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  let restore = () => {}
  group.each.teardown(() => restore())

  test('?sort=quality lists the call with the most loss first; the default keeps the start order', async ({
    client,
    assert,
  }) => {
    const admin = await staff('superadmin')
    const running = (uuid: string, loss: number | null, jitterMs = 1) => ({
      uuid,
      record: {
        companyId: null,
        direction: 'outbound',
        emergency: false,
        carrierName: 'c',
        callerNumber: null,
        calleeNumber: null,
      },
      session: {
        startedAt: new Date(),
        answered: true,
        relayed: { aToB: 0, bToA: 0 },
        liveQuality: {
          caller: { lossPercent: 0, jitterMs },
          callee: loss === null ? null : { lossPercent: loss, jitterMs },
        },
      },
    })
    const calls = [
      running('call-clean', 0),
      running('call-lossy', 4.8),
      running('call-jittery', 0, 30),
      running('call-quiet', null),
    ]
    // The running calls as the B2BUA lists them, with what their legs measured so far
    const b2bua = await app.container.make('calls.b2bua')
    Object.defineProperty(b2bua, 'calls', { value: calls, configurable: true })
    restore = () => {
      delete (b2bua as { calls?: unknown }).calls
    }
    const order = (html: string) => [...html.matchAll(/data-call="([^"]+)"/g)].map((m) => m[1])

    const byStart = await client.get('/admin/calls/live').loginAs(admin)
    byStart.assertStatus(200)
    assert.deepEqual(order(byStart.text()), [
      'call-clean',
      'call-lossy',
      'call-jittery',
      'call-quiet',
    ])
    const worst = await client.get('/admin/calls/live?sort=quality').loginAs(admin)
    assert.deepEqual(order(worst.text()), [
      'call-lossy',
      'call-jittery',
      'call-clean',
      'call-quiet',
    ])
    assert.include(worst.text(), 'Schlechteste Qualität zuerst')
    assert.include(worst.text(), '4,8 % Verlust')
  })
})
