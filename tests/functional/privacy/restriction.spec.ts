import { randomUUID } from 'node:crypto'
import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import testUtils from '@adonisjs/core/services/test_utils'
import { CallGateRegistry } from '#calls/gates/call_gate'
import type User from '#accounts/models/user'
import type Company from '#accounts/models/company'
import ProcessingRestriction from '#privacy/models/processing_restriction'
import { isRestricted, restrictedUserIds } from '#privacy/restrictions'
import processingRestrictions from '#core/processing_restrictions'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { auditMark, auditSince } from '#tests/support/audit'
import { resetCounters } from '#tests/support/counters'

/**
 * Restriction of processing (Art. 18 GDPR) for one user, by the company's admins: recorded and
 * audited, readable by other modules (isRestricted), the user's calls refused (110/112 excepted,
 * they never reach a gate), lifted again; admins of another company cannot touch it.
 */
async function callOf(company: Company, user: User) {
  const gates = await app.container.make(CallGateRegistry)
  return gates.check({
    company,
    user,
    destination: '+4930123456',
    carrierNames: ['first'],
    callUuid: randomUUID(),
    deviceId: null,
    sourceAddress: '127.0.0.2',
    kind: 'direct',
    pricePerMinuteCents: null,
  })
}

test.group('Privacy: restriction of processing (Art. 18)', (group) => {
  group.each.setup(async () => {
    // Company ids come round again after each rolled-back test: start from empty call counters
    // (other files' concurrent-call leases would otherwise count against this company)
    await resetCounters()
    ;(await app.container.make('fraud.policies')).forgetAll()
    return testUtils.db().withGlobalTransaction()
  })
  group.each.teardown(async () => (await app.container.make('fraud.leases')).written())

  test('an admin restricts a user: kept, audited, calls refused, isRestricted true; lifting undoes it', async ({
    client,
    assert,
  }) => {
    const company = await makeCompany('active')
    const admin = await makeUser('admin', company)
    const member = await makeUser('member', company)
    const other = await makeUser('member', company)

    const page = await client.get(`/app/privacy/users/${member.id}`).loginAs(admin)
    page.assertStatus(200)
    assert.include(page.text(), 'id="privacy-roles"')
    assert.include(page.text(), 'Art. 28 DSGVO')
    assert.include(page.text(), 'datenschutz@fluffycall.de')
    assert.include(page.text(), 'data-state="none"')

    const mark = await auditMark()
    const restricted = await client
      .post(`/app/privacy/users/${member.id}/restriction`)
      .form({ ground: 'accuracy_contested', note: 'Antrag vom 1.12.' })
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    restricted.assertStatus(302)
    assert.isTrue(await isRestricted(member.id))
    assert.isFalse(await isRestricted(other.id))
    assert.deepEqual([...(await restrictedUserIds([member.id, other.id]))], [member.id])
    // The core seam the fraud baselines ask (registered by the privacy provider)
    assert.deepEqual([...(await processingRestrictions.restrictedUserIds(company.id))], [member.id])
    const row = await ProcessingRestriction.findByOrFail('user_id', member.id)
    assert.equal(row.ground, 'accuracy_contested')
    assert.equal(row.restrictedById, admin.id)
    assert.lengthOf(
      await auditSince(mark)
        .where('action', 'privacy.restriction.set')
        .where('target_id', String(member.id)),
      1
    )

    assert.deepInclude(await callOf(company, member), {
      allow: false,
      gate: 'privacy_restriction',
      status: 403,
      phrase: 'Processing restricted',
    })
    const otherDecision = await callOf(company, other)
    assert.isTrue(otherDecision.allow, `the other users call on: ${JSON.stringify(otherDecision)}`)
    const shown = await client.get(`/app/privacy/users/${member.id}`).loginAs(admin)
    assert.include(shown.text(), 'data-state="restricted"')

    const again = await client
      .post(`/app/privacy/users/${member.id}/restriction`)
      .form({ ground: 'legal_claims' })
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    again.assertStatus(302)
    assert.lengthOf(
      await ProcessingRestriction.query().where('user_id', member.id),
      1,
      'one restriction at a time'
    )

    const lifted = await client
      .delete(`/app/privacy/users/${member.id}/restriction`)
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    lifted.assertStatus(302)
    assert.isFalse(await isRestricted(member.id))
    assert.deepEqual([...(await processingRestrictions.restrictedUserIds(company.id))], [])
    assert.isTrue((await callOf(company, member)).allow)
    assert.lengthOf(await auditSince(mark).where('action', 'privacy.restriction.lifted'), 1)
    const history = await ProcessingRestriction.query().where('user_id', member.id)
    assert.lengthOf(history, 1)
    assert.isNotNull(history[0].liftedAt, 'the restriction stays on record as lifted')
  })

  test('members and admins of another company cannot restrict', async ({ client, assert }) => {
    const company = await makeCompany('active')
    const member = await makeUser('member', company)
    const colleague = await makeUser('member', company)
    const stranger = await makeUser('admin', await makeCompany('active'))

    ;(
      await client
        .post(`/app/privacy/users/${colleague.id}/restriction`)
        .form({ ground: 'legal_claims' })
        .withCsrfToken()
        .loginAs(member)
        .redirects(0)
    ).assertStatus(403)
    ;(
      await client
        .post(`/app/privacy/users/${colleague.id}/restriction`)
        .form({ ground: 'legal_claims' })
        .withCsrfToken()
        .loginAs(stranger)
        .redirects(0)
    ).assertStatus(404)
    ;(await client.get(`/app/privacy/users/${colleague.id}`).loginAs(stranger)).assertStatus(404)
    assert.isFalse(await isRestricted(colleague.id))
  })
})
