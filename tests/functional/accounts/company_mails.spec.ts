import { randomUUID } from 'node:crypto'
import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import Company from '#accounts/models/company'
import User from '#accounts/models/user'
import CompanyStatusMailJob from '#accounts/jobs/company_status_mail_job'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { lastMailTo } from '#tests/support/mail'
import { recordDispatches, runDispatched } from '#tests/support/jobs'
import { enableTwoFactor } from '#tests/support/two_factor'

const JOB = 'accounts.company_status_mail'

/** A complete sign-up form whose company name carries something a stranger typed. */
function signupForm(tag: string) {
  return {
    legal_name: `Klick hier http://evil.example ${tag}`,
    legal_form: 'GmbH',
    country: 'DE',
    vat_id: 'DE123456789',
    billing_street: 'Musterstraße 12',
    billing_postal_code: '10115',
    billing_city: 'Berlin',
    data_residency: 'eu_only',
    privacy_contact_name: 'Dana Datenschutz',
    privacy_contact_email: `privacy-${tag}@example.test`,
    full_name: '<b>Olga</b> Owner',
    email: `owner-${tag}@example.test`,
    password: 'Sign-up-Passw0rd',
    password_confirmation: 'Sign-up-Passw0rd',
    business_confirmation: 'on',
  }
}

async function superadmin() {
  const staff = await makeUser('superadmin')
  await enableTwoFactor(staff)
  return staff
}

test.group('Company status mails', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('a confirmed sign-up queues a "received" mail; the owner gets it in the language the sign-up was made in, with fixed subject and text', async ({
    client,
    assert,
    cleanup,
  }) => {
    const dispatched = await recordDispatches(cleanup)
    for (const [language, subject, text] of [
      ['de', 'FluffyCall: Ihre Registrierung ist eingegangen', 'prüfen sie jetzt'],
      ['en', 'FluffyCall: we have received your sign-up', 'are reviewing it now'],
    ] as const) {
      const tag = randomUUID().slice(0, 8)
      const form = signupForm(tag)
      const response = await client
        .post('/signup')
        .header('Accept-Language', language)
        .form(form)
        .withCsrfToken()
        .redirects(0)
      response.assertStatus(302)
      const owner = await User.findByOrFail('email', form.email)
      assert.equal(owner.locale, language)
      // Received once the address is proved (the sign-up answer reveals nothing, see signup_leak.spec.ts).
      const mine = () =>
        dispatched.find(
          (entry) => entry.name === JOB && (entry.payload as any).companyId === owner.companyId
        )
      assert.isUndefined(mine())
      await runDispatched(dispatched)
      const link = (await lastMailTo(form.email))!.html.match(/\/signup\/confirm\/([A-Za-z0-9_-]+)/)
      ;(await client.get(`/signup/confirm/${link![1]}`).redirects(0)).assertStatus(302)
      const job = mine()
      assert.deepEqual(job?.payload, { companyId: owner.companyId, mail: 'received' })

      await new CompanyStatusMailJob().handle(job!.payload as any)
      const mail = (await lastMailTo(form.email))!
      assert.equal(mail.subject, subject)
      assert.notInclude(mail.subject, tag)
      assert.include(mail.html, text)
      // Nothing a stranger typed reaches the inbox (anyone can sign up with someone else's address)
      for (const typed of [tag, 'evil.example', 'Olga']) assert.notInclude(mail.html, typed)
    }
  })

  test('approval (pending → active) and rejection (pending → terminated) queue mails to the owners; suspension does not', async ({
    client,
    assert,
    cleanup,
  }) => {
    const dispatched = await recordDispatches(cleanup)
    const staff = await superadmin()
    const approved = await makeCompany('pending')
    const approvedOwner = await makeUser('owner', approved)
    approvedOwner.locale = 'en'
    await approvedOwner.save()
    const member = await makeUser('member', approved)
    const rejected = await makeCompany('pending')
    const rejectedOwner = await makeUser('owner', rejected)
    const active = await makeCompany('active')
    await makeUser('owner', active)

    for (const [company, status] of [
      [approved, 'active'],
      [rejected, 'terminated'],
      [active, 'suspended'],
    ] as const) {
      const response = await client
        .put(`/admin/companies/${company.id}/status`)
        .form({ status })
        .withCsrfToken()
        .loginAs(staff)
        .redirects(0)
      response.assertStatus(302)
      response.assertFlashMessage('notice')
    }
    const jobs = dispatched.filter((entry) => entry.name === JOB).map((entry) => entry.payload)
    assert.deepEqual(jobs, [
      { companyId: approved.id, mail: 'approved' },
      { companyId: rejected.id, mail: 'rejected' },
    ])

    for (const payload of jobs) await new CompanyStatusMailJob().handle(payload as any)
    const approval = (await lastMailTo(approvedOwner.email))!
    assert.equal(approval.subject, 'FluffyCall: your company is approved')
    assert.include(approval.html, '/app')
    assert.isNull(await lastMailTo(member.email), 'members are not mailed')
    const rejection = (await lastMailTo(rejectedOwner.email))!
    assert.equal(rejection.subject, 'FluffyCall: Ihre Registrierung wurde abgelehnt')
    assert.equal((await Company.findOrFail(rejected.id)).status, 'terminated')
  })
})
