import { randomUUID } from 'node:crypto'
import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import { DateTime } from 'luxon'
import type Company from '#accounts/models/company'
import type User from '#accounts/models/user'
import CallRecord from '#calls/models/call_record'
import { CALL_HISTORY_PAGE_SIZE, shortenNumber } from '#calls/services/call_history_service'
import { makeCompany, makeUser } from '#tests/support/accounts'

/** The call history from the CDRs: own calls, the company's for admins, numbers shortened by choice. */

let minutesAgo = 1000

function record(user: User, fields: Partial<CallRecord>) {
  minutesAgo -= 1
  const startedAt = DateTime.utc().minus({ minutes: minutesAgo })
  return CallRecord.create({
    uuid: randomUUID(),
    companyId: user.companyId,
    userId: user.id,
    direction: 'outbound',
    emergency: false,
    callerNumber: '+493011110000',
    calleeNumber: '+493012345678',
    callerWithheld: false,
    startedAt,
    answeredAt: startedAt.plus({ seconds: 5 }),
    endedAt: startedAt.plus({ seconds: 70 }),
    durationSeconds: 65,
    sipStatus: 200,
    disconnectCause: 'answered_normal',
    hungUpBy: 'caller',
    ...fields,
  })
}

function rows(html: string) {
  return [
    ...html.matchAll(/<tr data-call="([^"]+)" data-missed="(true|false)"[\s\S]*?<\/tr>/g),
  ].map((match) => ({
    uuid: match[1],
    missed: match[2] === 'true',
    html: match[0],
  }))
}

async function setItemised(company: Company, itemised: 'full' | 'shortened') {
  company.itemisedNumbers = itemised
  await company.save()
}

test.group('Call history', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('shortening hides the last three digits of E.164 numbers and leaves short codes alone', ({
    assert,
  }) => {
    assert.equal(shortenNumber('+493012345678'), '+493012345xxx')
    assert.equal(shortenNumber('110'), '110')
    assert.equal(shortenNumber('*43'), '*43')
  })

  test('a member sees only own calls, destination numbers shortened by default, missed calls marked', async ({
    client,
    assert,
  }) => {
    const company = await makeCompany()
    const user = await makeUser('member', company)
    const colleague = await makeUser('member', company)
    const outbound = await record(user, {})
    const missed = await record(user, {
      direction: 'inbound',
      callerNumber: '+4915112345678',
      calleeNumber: '+493011110000',
      answeredAt: null,
      durationSeconds: null,
      disconnectCause: 'missed',
      sipStatus: 480,
    })
    const withheld = await record(user, {
      direction: 'inbound',
      callerNumber: null,
      callerWithheld: true,
    })
    const emergency = await record(user, { calleeNumber: '112', emergency: true })
    const theirs = await record(colleague, { calleeNumber: '+493099999999' })

    const page = await client.get('/app/calls').loginAs(user)
    page.assertStatus(200)
    const shown = rows(page.text())
    assert.deepEqual(
      shown.map((row) => row.uuid),
      [emergency.uuid, withheld.uuid, missed.uuid, outbound.uuid],
      'newest first, own calls only'
    )
    assert.notInclude(page.text(), theirs.uuid)
    const byUuid = new Map(shown.map((row) => [row.uuid, row]))
    assert.include(byUuid.get(outbound.uuid)!.html, '+49 30 12345xxx')
    assert.notInclude(page.text(), '+49 30 12345678')
    assert.include(
      byUuid.get(missed.uuid)!.html,
      '+49 1511 2345678',
      'a caller’s number stays whole: it is for calling back'
    )
    assert.isTrue(byUuid.get(missed.uuid)!.missed)
    assert.include(byUuid.get(missed.uuid)!.html, 'Verpasst')
    assert.isFalse(byUuid.get(outbound.uuid)!.missed)
    assert.include(byUuid.get(withheld.uuid)!.html, 'unterdrückt')
    assert.include(byUuid.get(emergency.uuid)!.html, '>112<')
    assert.include(byUuid.get(outbound.uuid)!.html, '1:05')

    await setItemised(company, 'full')
    const full = await client.get('/app/calls').loginAs(user)
    assert.include(full.text(), '+49 30 12345678')
  })

  test('each call shows its quality: label and MOS, German first (4,2) and English (4.2); none when not measured', async ({
    client,
    assert,
  }) => {
    const company = await makeCompany()
    const user = await makeUser('member', company)
    const good = await record(user, { qualityMos: 4.21, callerMos: 4.3, calleeMos: 4.21 })
    const fair = await record(user, { qualityMos: 3.7 })
    const poor = await record(user, { qualityMos: 2.14, calleeLossPercent: 4.8 })
    const unknown = await record(user, {})

    const german = new Map(
      rows((await client.get('/app/calls').loginAs(user)).text()).map((row) => [row.uuid, row.html])
    )
    assert.include(german.get(good.uuid)!, 'Qualität: Gut (4,2)')
    assert.include(german.get(fair.uuid)!, 'Qualität: Mäßig (3,7)')
    assert.include(german.get(poor.uuid)!, 'Qualität: Schlecht (2,1)')
    assert.include(german.get(poor.uuid)!, 'data-quality="poor"')
    assert.notInclude(german.get(unknown.uuid)!, 'data-quality')

    const english = new Map(
      rows(
        (await client.get('/app/calls').header('accept-language', 'en').loginAs(user)).text()
      ).map((row) => [row.uuid, row.html])
    )
    assert.include(english.get(good.uuid)!, 'Quality: Good (4.2)')
    assert.include(english.get(poor.uuid)!, 'Quality: Poor (2.1)')
  })

  test('an end-to-end encrypted call says so (German and English); other calls do not', async ({
    client,
    assert,
  }) => {
    const company = await makeCompany()
    const user = await makeUser('member', company)
    const sealed = await record(user, { direction: 'internal', endToEndEncrypted: true })
    const plain = await record(user, { direction: 'internal' })

    const german = new Map(
      rows((await client.get('/app/calls').loginAs(user)).text()).map((row) => [row.uuid, row.html])
    )
    assert.include(german.get(sealed.uuid)!, 'Ende-zu-Ende verschlüsselt')
    assert.include(german.get(sealed.uuid)!, 'data-end-to-end-encrypted="true"')
    assert.notInclude(german.get(plain.uuid)!, 'Ende-zu-Ende')
    const english = new Map(
      rows(
        (await client.get('/app/calls').header('accept-language', 'en').loginAs(user)).text()
      ).map((row) => [row.uuid, row.html])
    )
    assert.include(english.get(sealed.uuid)!, 'End-to-end encrypted')
  })

  test('admins see the whole company’s calls, never another company’s; members may not', async ({
    client,
    assert,
  }) => {
    const company = await makeCompany()
    const admin = await makeUser('admin', company)
    const member = await makeUser('member', company)
    const outsider = await makeUser('member', await makeCompany())
    const own = await record(admin, {})
    const members = await record(member, {})
    const foreign = await record(outsider, {})

    const page = await client.get('/app/calls?scope=company').loginAs(admin)
    page.assertStatus(200)
    const uuids = rows(page.text()).map((row) => row.uuid)
    assert.sameMembers(uuids, [own.uuid, members.uuid])
    assert.notInclude(page.text(), foreign.uuid)
    assert.include(page.text(), member.fullName)

    const refused = await client.get('/app/calls?scope=company').loginAs(member)
    refused.assertStatus(403)
  })

  test('25 calls per page; the next page has the rest; a bad page number is refused, not a crash', async ({
    client,
    assert,
  }) => {
    const user = await makeUser('member')
    for (let index = 0; index < CALL_HISTORY_PAGE_SIZE + 5; index++) await record(user, {})
    const first = await client.get('/app/calls').loginAs(user)
    assert.lengthOf(rows(first.text()), CALL_HISTORY_PAGE_SIZE)
    assert.include(first.text(), 'Seite 1 von 2')
    const next = /href="([^"]+)" rel="next"/.exec(first.text())?.[1]?.replaceAll('&amp;', '&')
    assert.isString(next)
    const second = await client.get(next!).loginAs(user)
    assert.lengthOf(rows(second.text()), 5)

    const bad = await client.get('/app/calls?page=abc').loginAs(user).redirects(0)
    bad.assertStatus(302)
  })

  test('the overview lists the last five own calls in German time, missed ones marked, and links to the history', async ({
    client,
    assert,
  }) => {
    const company = await makeCompany()
    const user = await makeUser('member', company)
    const colleague = await makeUser('member', company)
    await record(colleague, { calleeNumber: '+4930999999' })
    const calls = []
    for (let i = 0; i < 6; i++) calls.push(await record(user, {}))
    const missed = await record(user, {
      direction: 'inbound',
      callerNumber: '+4915112345678',
      answeredAt: null,
      durationSeconds: null,
      disconnectCause: 'missed',
      startedAt: DateTime.fromISO('2026-07-01T08:15:00Z'),
    })
    const html = (await client.get('/app').loginAs(user)).text()
    const panel = /<section class="card" id="recent-calls-panel">[\s\S]*?<\/section>/.exec(html)![0]
    const shown = rows(panel)
    // The newest first: the missed call was started long ago, so it is not among the last five
    assert.deepEqual(
      shown.map((row) => row.uuid),
      calls
        .slice(1)
        .reverse()
        .map((call) => call.uuid)
    )
    assert.include(panel, 'href="/app/calls"')

    missed.startedAt = DateTime.utc().plus({ minutes: 1 })
    await missed.save()
    const again = rows((await client.get('/app').loginAs(user)).text())
    assert.equal(again[0].uuid, missed.uuid)
    assert.isTrue(again[0].missed)
    assert.include(again[0].html, 'Verpasst')
    // 10:15 in summer in Berlin for 08:15 UTC
    missed.startedAt = DateTime.fromISO('2026-07-01T08:15:00Z')
    await missed.save()
    await CallRecord.query().where('user_id', user.id).whereNot('id', missed.id).delete()
    const summer = rows((await client.get('/app').loginAs(user)).text())
    assert.lengthOf(summer, 1)
    assert.include(summer[0].html, '01.07.2026, 10:15')
  })
})
