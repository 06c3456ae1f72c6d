import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import app from '@adonisjs/core/services/app'
import testUtils from '@adonisjs/core/services/test_utils'
import db from '@adonisjs/lucid/services/db'
import LoginService from '#accounts/services/login_service'
import AccountEndJob from '#privacy/jobs/account_end_job'
import DataExportService from '#privacy/services/data_export_service'
import AccountTermination from '#privacy/models/account_termination'
import AccountTerminationService, {
  TerminationError,
  terminationEndsAt,
} from '#privacy/services/account_termination_service'
import { TEST_PASSWORD, makeCompany, makeUser } from '#tests/support/accounts'
import { auditMark, auditSince } from '#tests/support/audit'
import { drainJobs } from '#tests/support/jobs'
import { lastMailTo } from '#tests/support/mail'
import { enableTwoFactor } from '#tests/support/two_factor'

/**
 * Account end from the owner's side (issue 15): the owner terminates in the customer area,
 * confirmed by typing the company's name, effective at the end of the month (German time) and
 * withdrawable until then; at the end date the account-end job sets the company terminated. After
 * that its owners still log in, but reach only the invoices and the data export; everyone else is
 * locked out. Decided on an injected clock.
 */
test.group('Privacy: account termination', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.teardown(() => app.container.restore(AccountTerminationService))

  test('the end of the month, German time', ({ assert }) => {
    const at = (iso: string) => terminationEndsAt(DateTime.fromISO(iso)).toISO()
    assert.equal(at('2026-11-12T10:00:00Z'), '2026-11-30T23:00:00.000Z')
    // 31 October, 23:30 UTC is already 1 November in Germany: the end of November
    assert.equal(at('2026-10-31T23:30:00Z'), '2026-11-30T23:00:00.000Z')
    assert.equal(at('2026-06-30T21:00:00Z'), '2026-06-30T22:00:00.000Z')
  })

  test('an owner terminates through the page with the company name, can withdraw until the end date, and the job carries it out', async ({
    client,
    assert,
  }) => {
    const company = await makeCompany('active')
    const owner = await makeUser('owner', company)
    const coOwner = await makeUser('owner', company)
    const member = await makeUser('member', company)
    const admin = await makeUser('admin', company)
    let now = DateTime.fromISO('2026-11-12T10:00:00Z')
    const terminations = new AccountTerminationService()
    terminations.now = () => now
    app.container.swap(AccountTerminationService, () => terminations)
    const mark = await auditMark()

    const page = await client.get('/app/account/end').loginAs(owner)
    page.assertStatus(200)
    assert.include(page.text(), '30.11.2026', 'the end date')
    assert.include(page.text(), 'HGB § 257')
    assert.include(page.text(), '01.01.2035', 'the final invoice is kept until')
    assert.include(page.text(), company.legalName, 'asks for the name')
    ;(await client.get('/app/account/end').loginAs(admin)).assertStatus(403)
    ;(
      await client
        .post('/app/account/end')
        .form({ company_name: company.legalName })
        .withCsrfToken()
        .loginAs(member)
        .redirects(0)
    ).assertStatus(403)

    const wrong = await client
      .post('/app/account/end')
      .form({ company_name: 'Irgendwas GmbH' })
      .withCsrfToken()
      .loginAs(owner)
    assert.include(wrong.text(), 'stimmt nicht')
    assert.isNull(await terminations.pending(company.id), 'a wrong name terminates nothing')

    const done = await client
      .post('/app/account/end')
      .form({ company_name: `  ${company.legalName} ` })
      .withCsrfToken()
      .loginAs(owner)
    assert.include(done.text(), 'endet mit Ablauf des 30.11.2026')
    const termination = await terminations.pending(company.id)
    assert.equal(termination!.endsAt.toMillis(), Date.parse('2026-11-30T23:00:00Z'))
    await drainJobs()
    for (const each of [owner, coOwner])
      assert.include((await lastMailTo(each.email))!.html, 'Ablauf des 2026-11-30')
    assert.isNull(await lastMailTo(member.email), 'owners only')

    // Every user sees the end date on every page
    const banner = await client.get('/app/privacy').loginAs(member)
    assert.include(banner.text(), 'id="termination-banner"')
    assert.include(banner.text(), 'endet mit Ablauf des 30.11.2026')

    // Staff see it on the company page
    const staff = await makeUser('support')
    await enableTwoFactor(staff)
    const staffPage = await client.get(`/admin/companies/${company.id}`).loginAs(staff)
    assert.include(staffPage.text(), 'id="company-termination"')

    await client.post('/app/account/end/withdraw').withCsrfToken().loginAs(coOwner)
    assert.isNull(await terminations.pending(company.id))
    await drainJobs()
    assert.include((await lastMailTo(owner.email))!.html, 'zurückgenommen')

    await terminations.terminate(owner, company, company.legalName, null)
    await assert.rejects(
      () => terminations.terminate(owner, company, company.legalName, null),
      TerminationError
    )
    const job = new AccountEndJob()
    await job.handle({ now: '2026-11-30T22:59:00Z' })
    await company.refresh()
    assert.equal(company.status, 'active', 'not before the end date')
    await job.handle({ now: '2026-11-30T23:00:00Z' })
    await company.refresh()
    assert.equal(company.status, 'terminated')
    assert.equal(company.terminatedAt!.toMillis(), Date.parse('2026-11-30T23:00:00Z'))
    now = DateTime.fromISO('2026-11-30T23:30:00Z')
    await assert.rejects(() => terminations.withdraw(owner, company, null), TerminationError)

    // The owner's own export names the terminations they gave or withdrew
    const { manifest } = await new DataExportService().collect(owner)
    assert.equal(manifest.find((entry) => entry.table === 'account_terminations')?.rows, 2)

    const actions = (await auditSince(mark)).map((row: any) => row.action)
    assert.includeMembers(actions, [
      'privacy.account.termination_requested',
      'privacy.account.termination_withdrawn',
      'company.status.changed',
    ])
    assert.lengthOf(
      await AccountTermination.query()
        .where('company_id', company.id)
        .whereNotNull('carried_out_at'),
      1
    )
  })

  test('after the end the owners read invoices and the export only; the other users are locked out', async ({
    client,
    assert,
  }) => {
    const company = await makeCompany('terminated', {
      terminatedAt: DateTime.fromISO('2026-11-30T23:00:00Z'),
    })
    const owner = await makeUser('owner', company)
    const member = await makeUser('member', company)
    const logins = new LoginService()

    assert.equal((await logins.attempt(owner.email, TEST_PASSWORD, '192.0.2.71')).kind, 'ok')
    assert.equal((await logins.attempt(member.email, TEST_PASSWORD, '192.0.2.71')).kind, 'ended')

    const landing = await client.get('/app').loginAs(owner)
    landing.assertStatus(200)
    assert.include(landing.text(), 'id="account-ended"')
    ;(await client.get('/app/invoices').loginAs(owner)).assertStatus(200)
    const mine = await client.get('/app/privacy').loginAs(owner)
    mine.assertStatus(200)
    assert.notInclude(mine.text(), 'id="profile-form"', 'read access: no changes')
    ;(
      await client.post('/app/privacy/export').withCsrfToken().loginAs(owner).redirects(0)
    ).assertStatus(302)
    ;(await client.get('/app/account/end').loginAs(owner)).assertStatus(200)
    for (const path of ['/app/phone', '/app/calls', '/app/team', '/app/devices', '/app/dpa']) {
      const refused = await client.get(path).loginAs(owner)
      refused.assertStatus(403)
      assert.include(refused.text(), 'auch Anrufe nicht', path)
    }
    const refusedPost = await client
      .post('/app/privacy/profile')
      .form({ full_name: 'Neu', email: owner.email })
      .withCsrfToken()
      .loginAs(owner)
      .redirects(0)
    refusedPost.assertStatus(403)

    const locked = await client.get('/app/invoices').loginAs(member).redirects(0)
    locked.assertStatus(302)
    locked.assertHeader('location', '/login')

    // Once the account data is deleted, the owner's read access ends too
    await db
      .from('companies')
      .where('id', company.id)
      .update({ account_data_deleted_at: '2027-01-02 00:00:00' })
    assert.equal((await logins.attempt(owner.email, TEST_PASSWORD, '192.0.2.71')).kind, 'ended')
  })
})
