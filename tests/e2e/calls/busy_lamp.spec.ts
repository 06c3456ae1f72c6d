import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import type Company from '#accounts/models/company'
import type User from '#accounts/models/user'
import SipDeviceService from '#calls/services/sip_device_service'
import InternalLineService from '#calls/internal/internal_line_service'
import InternalSetting from '#calls/models/internal_setting'
import { lampOf } from '#calls/internal/busy_lamps'
import { configuredRealm } from '#calls/signalling/registrar_settings'
import { sipSubjectParts, userSubject } from '#calls/signalling/sip_subject'
import { makeCompany, makeUser } from '#tests/support/accounts'
import B2bua from '#calls/b2bua/b2bua'
import { loopbackCarriers, startB2bua } from '#tests/support/calls'
import { freePort, startSipp } from '#tests/support/sip_peers'
import { expectExit, sipUdpPort } from '#tests/e2e/calls/b2bua_races_peers'

/**
 * Busy-lamp field of a real SIP desk phone: sipp subscribes (digest) to a colleague's extension
 * for the dialog event package and receives NOTIFYs as that colleague is called by another sipp
 * phone (internal call): idle, early (ringing), confirmed (talking), terminated; then it
 * unsubscribes and gets the final NOTIFY.
 */

interface Desk {
  user: User
  username: string
  password: string
  deviceId: number
}

async function desk(company: Company): Promise<Desk> {
  const user = await makeUser('member', company)
  const { device, password } = await new SipDeviceService().create(user, 'Desk phone')
  return { user, username: device.sipUsername, password, deviceId: device.id }
}

function credentials(phone: Desk) {
  return ['-s', phone.username, '-au', phone.username, '-ap', phone.password]
}

/** sipp as a phone at `localIp` sending `scenario` to us, with digest for `callee`. */
async function phoneAt(
  localIp: string,
  phone: Desk,
  callee: string,
  scenario: string,
  extra: string[] = []
) {
  const port = await sipUdpPort()
  return startSipp({
    scenario,
    transport: 'u1',
    target: `127.0.0.1:${port}`,
    localIp,
    timeoutSeconds: 25,
    traceMessages: true,
    keys: { domain: configuredRealm(), callee },
    extraArgs: ['-auth_uri', `${callee}@127.0.0.1:${port}`, ...credentials(phone), ...extra],
  })
}

/** Registers the colleague's phone from 127.0.0.3, then answers there. */
async function registeredDesk(phone: Desk) {
  const stack = await app.container.make('sip.stack')
  const registration = await startSipp({
    scenario: 'uac_register.xml',
    transport: 'u1',
    target: `127.0.0.1:${await sipUdpPort()}`,
    localIp: '127.0.0.3',
    keys: { domain: configuredRealm() },
    extraArgs: credentials(phone),
  })
  const registered = await registration.done
  registration.stop()
  if (registered.code !== 0)
    throw new Error(`the phone did not register: ${registration.describe(registered)}`)
  const binding = (await stack.bindingsOfSubject(userSubject(phone.user.id))).find(
    (candidate) => sipSubjectParts(candidate.subject)?.deviceId === phone.deviceId
  )
  if (!binding) throw new Error(`no binding for device ${phone.deviceId}`)
  const sipp = await startSipp({
    scenario: 'internal_device_answer.xml',
    transport: 'u1',
    localIp: '127.0.0.3',
    port: binding.source.port,
    timeoutSeconds: 25,
    traceMessages: true,
  })
  return { sipp, unregister: () => stack.registrar.bindings.remove(binding) }
}

/** The NOTIFY requests in a sipp message log, in order. */
function notifiesIn(log: string): string[] {
  return log
    .split(/^NOTIFY sip:/m)
    .slice(1)
    .map((text) => text.split(/\n-{10,}|^SIP\/2\.0 /m)[0])
}

test.group('Busy-lamp field of a SIP desk phone', (group) => {
  const cleanups: Array<() => unknown> = []

  group.setup(async () => {
    await startB2bua()
  })
  group.each.setup(async () => {
    cleanups.push(await loopbackCarriers({ trunk: await freePort('udp', '127.0.0.1') }))
  })
  group.each.teardown(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  test('a phone watching extension 23 sees it ring, talk and hang up', async ({ assert }) => {
    const company = await makeCompany('active')
    const admin = await makeUser('admin', company)
    const caller = await desk(company)
    const callee = await desk(company)
    const watcher = await desk(company)
    const lines = new InternalLineService()
    await lines.setExtension(company, caller.user.id, '22', { actor: admin, ip: null })
    await lines.setExtension(company, callee.user.id, '23', { actor: admin, ip: null })
    await lines.setExtension(company, watcher.user.id, '24', { actor: admin, ip: null })
    await InternalSetting.updateOrCreate({ companyId: company.id }, { presenceEnabled: true })

    const device = await registeredDesk(callee)
    cleanups.push(device.sipp.stop, device.unregister)
    const lamp = await phoneAt('127.0.0.4', watcher, '23', 'phone_watches_line.xml')
    cleanups.push(lamp.stop)
    const notifier = B2bua.started!.lamps.notifier
    const deadline = Date.now() + 10_000
    while (notifier.subscribersOf(lampOf(callee.user.id)) === 0) {
      if (Date.now() > deadline) throw new Error(`no subscription:\n${lamp.messages()}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }

    const call = await phoneAt('127.0.0.2', caller, '23', 'phone_call_out.xml', ['-d', '500'])
    cleanups.push(call.stop)
    await expectExit(call, 0, assert)
    await expectExit(device.sipp, 0, assert)
    await expectExit(lamp, 0, assert)

    const notifies = notifiesIn(lamp.messages())
    assert.lengthOf(notifies, 5, lamp.messages().slice(-6000))
    const states = notifies.map((text) =>
      [...text.matchAll(/<state>(\w+)<\/state>/g)].map((m) => m[1])
    )
    assert.deepEqual(states, [[], ['early'], ['confirmed'], ['terminated'], []])
    const versions = notifies.map((text) => /version="(\d+)"/.exec(text)?.[1])
    assert.deepEqual(versions, ['0', '1', '2', '3', '4'])
    for (const text of notifies.slice(0, 4)) {
      assert.match(text, /^Subscription-State: active;expires=\d+/m)
      assert.match(text, /^Event: dialog/m)
      assert.match(text, /^Content-Type: application\/dialog-info\+xml/m)
    }
    assert.match(notifies[4], /^Subscription-State: terminated\s*$/m)
    assert.match(notifies[1], /direction="recipient"/)
    // The lamp tells the state, not who calls: no participant, no numbers.
    assert.notInclude(notifies.join('\n'), '<local>')
    assert.notInclude(notifies.join('\n'), 'sip:22@')
    assert.equal(notifier.subscribersOf(lampOf(callee.user.id)), 0)
  }).timeout(60_000)

  test('presence off for the company: 403; an unknown extension: 404', async ({ assert }) => {
    const company = await makeCompany('active')
    const watcher = await desk(company)
    const refused = await phoneAt('127.0.0.4', watcher, '23', 'phone_watches_line.xml')
    cleanups.push(refused.stop)
    const outcome = await refused.done
    assert.notEqual(outcome.code, 0)
    assert.match(refused.messages(), /^SIP\/2\.0 404 No such extension/m, refused.describe(outcome))
    const admin = await makeUser('admin', company)
    const colleague = await desk(company)
    await new InternalLineService().setExtension(company, colleague.user.id, '23', {
      actor: admin,
      ip: null,
    })
    const hidden = await phoneAt('127.0.0.4', watcher, '23', 'phone_watches_line.xml')
    cleanups.push(hidden.stop)
    assert.notEqual((await hidden.done).code, 0)
    assert.match(hidden.messages(), /^SIP\/2\.0 403 Presence not shared/m)
  }).timeout(60_000)

  test('turning presence off ends a running subscription with a NOTIFY terminated', async ({
    assert,
  }) => {
    const company = await makeCompany('active')
    const admin = await makeUser('owner', company)
    const colleague = await desk(company)
    const watcher = await desk(company)
    const lines = new InternalLineService()
    await lines.setExtension(company, colleague.user.id, '23', { actor: admin, ip: null })
    await lines.setPresence(company, true, { actor: admin, ip: null })
    const lamp = await phoneAt('127.0.0.4', watcher, '23', 'phone_watches_line_until_ended.xml')
    cleanups.push(lamp.stop)
    const notifier = B2bua.started!.lamps.notifier
    const deadline = Date.now() + 10_000
    while (notifier.subscribersOf(lampOf(colleague.user.id)) === 0) {
      if (Date.now() > deadline) throw new Error(`no subscription:\n${lamp.messages()}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    await lines.setPresence(company, false, { actor: admin, ip: null })
    await expectExit(lamp, 0, assert)
    const notifies = notifiesIn(lamp.messages())
    assert.lengthOf(notifies, 2)
    assert.match(notifies[1], /^Subscription-State: terminated;reason=deactivated/m)
    assert.equal(notifier.subscribersOf(lampOf(colleague.user.id)), 0)
  }).timeout(60_000)
})
