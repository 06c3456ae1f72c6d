import { test } from '@japa/runner'
import { phoneNumber } from '#core/formatting'
import app from '@adonisjs/core/services/app'
import db from '@adonisjs/lucid/services/db'
import SipDeviceService from '#calls/services/sip_device_service'
import { configuredRealm } from '#calls/signalling/registrar_settings'
import {
  Created,
  loginThroughForm,
  passTwoFactor,
  staffWithTwoFactor,
  uniqueCompany,
  uniqueUser,
} from '#tests/support/browser'
import { auditMark, auditSince } from '#tests/support/audit'
import { forgetPhoneUsers, loopbackCarriers, ourNumber, startB2bua } from '#tests/support/calls'
import { startSipp, type SippProcess } from '#tests/support/sip_peers'

/**
 * Staff end a running call from the live calls page in Chromium: logged in through the form
 * with 2FA, the row shows the call with shortened numbers, the button's form (DELETE by method
 * spoofing, CSRF) ends it; both sipp legs get their BYE and exit 0.
 */

/** A number of this run only (browser tests run outside a transaction). */
function uniqueNumber() {
  return `+49309${String(Math.floor(Math.random() * 9_000_000) + 1_000_000)}`
}

async function expectExit(sipp: SippProcess, assert: { equal: Function }) {
  const outcome = await sipp.done
  assert.equal(outcome.code, 0, `${sipp.describe(outcome)}\n${sipp.messages().slice(-3000)}`)
}

test.group('Live calls in the browser', (group) => {
  const created = new Created()
  const userIds: number[] = []
  const cleanups: Array<() => unknown> = []
  group.setup(async () => {
    await startB2bua()
  })
  group.each.teardown(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
    await forgetPhoneUsers(userIds)
    await created.cleanup()
  })

  test('staff see the running call with shortened numbers and end it with the button', async ({
    visit,
    assert,
  }) => {
    const company = await uniqueCompany(created)
    const member = await uniqueUser(created, 'member', company)
    userIds.push(member.id)
    const { device, password } = await new SipDeviceService().create(member, 'Desk phone')
    const caller = uniqueNumber()
    const callee = uniqueNumber()

    const carrier = await startSipp({
      scenario: 'carrier_answer_echo.xml',
      transport: 'u1',
      timeoutSeconds: 90,
      traceMessages: true,
      extraArgs: ['-rtp_echo'],
    })
    cleanups.push(carrier.stop, await loopbackCarriers({ live_carrier: carrier.port }))
    await ourNumber(caller, 'live_carrier', company, member.id)
    const sipPort = (await app.container.make('sip.stack')).layer.localAddress('udp')!.port
    const phone = await startSipp({
      scenario: 'phone_call_until_bye.xml',
      transport: 'u1',
      target: `127.0.0.1:${sipPort}`,
      localIp: '127.0.0.2',
      timeoutSeconds: 90,
      traceMessages: true,
      keys: { domain: configuredRealm(), callee },
      extraArgs: [
        '-auth_uri',
        `${callee}@127.0.0.1:${sipPort}`,
        '-s',
        device.sipUsername,
        '-au',
        device.sipUsername,
        '-ap',
        password,
      ],
    })
    cleanups.push(phone.stop)
    const b2bua = await app.container.make('calls.b2bua')
    cleanups.push(() =>
      Promise.allSettled(b2bua.calls.map((call) => call.session.hangUp('system_shutdown')))
    )

    const { user: admin, secret } = await staffWithTwoFactor(created)
    const page = await visit('/login')
    await loginThroughForm(page, admin.email)
    await passTwoFactor(page, secret)

    // The call is answered while the staff member logs in; the page is reloaded until it shows.
    let uuid: string | undefined
    for (const deadline = Date.now() + 20_000; !uuid && Date.now() < deadline;) {
      await page.goto('/admin/calls/live')
      uuid =
        (await page
          .locator('#live-calls tbody tr', { hasText: company.legalName })
          .first()
          .getAttribute('data-call', { timeout: 500 })
          .catch(() => null)) ?? undefined
    }
    assert.isDefined(uuid, `no live call shown\nphone: ${phone.messages().slice(-2000)}`)
    const row = page.locator(`tr[data-call="${uuid}"]`)
    const text = await row.innerText()
    assert.include(text, company.legalName)
    // Shortened and grouped as people read them (+49 30 93997xxx)
    assert.include(text, phoneNumber(`${caller.slice(0, -3)}xxx`))
    assert.include(text, phoneNumber(`${callee.slice(0, -3)}xxx`))
    assert.notInclude(text, phoneNumber(caller))
    assert.notInclude(await page.content(), caller)
    assert.notInclude(await page.content(), callee)

    const mark = await auditMark()
    await Promise.all([page.waitForURL('**/admin/calls/live'), row.locator('button').click()])
    await page.assertTextContains('.flash.notice', 'Das Gespräch wurde beendet.')
    await page.assertExists('#no-live-calls')

    await expectExit(phone, assert)
    await expectExit(carrier, assert)
    const record = await db.from('call_records').where('uuid', uuid!).firstOrFail()
    assert.equal(record.disconnect_cause, 'ended_by_staff')
    assert.equal(record.hung_up_by, 'system')
    const entries = await auditSince(mark).where('action', 'calls.ended_by_staff')
    assert.lengthOf(entries, 1)
    assert.equal(entries[0].actorId, admin.id)
    assert.equal(entries[0].targetId, uuid)
  }).timeout(120_000)
})
