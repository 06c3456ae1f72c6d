import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import db from '@adonisjs/lucid/services/db'
import PaymentMethod from '#billing/payments/models/payment_method'
import PaymentDetailsService from '#billing/payments/services/payment_details_service'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { auditMark, auditSince } from '#tests/support/audit'

/** Customer area: payment details (SEPA mandate or bank transfer) of the owner and admins. */

const PAGE = '/app/billing/payment'
const IBAN = 'DE89 3704 0044 0532 0130 00'

function mandate(overrides: Record<string, string> = {}) {
  return {
    account_holder: 'Demo GmbH',
    iban: IBAN,
    bic: '',
    signed_on: '2026-11-20',
    scheme: 'B2B',
    confirm: '1',
    ...overrides,
  }
}

test.group('Payments: payment details in the customer area', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('owner and admins reach the page and see it in the menu; members and staff do not', async ({
    client,
    assert,
  }) => {
    const company = await makeCompany('active')
    const owner = await makeUser('owner', company)
    const admin = await makeUser('admin', company)
    const member = await makeUser('member', company)
    for (const user of [owner, admin]) {
      const page = await client.get(PAGE).loginAs(user)
      page.assertStatus(200)
      assert.include(page.text(), `href="${PAGE}"`)
    }
    ;(await client.get(PAGE).loginAs(member)).assertStatus(403)
    assert.notInclude((await client.get('/app').loginAs(member)).text(), `href="${PAGE}"`)
    const refused = await client
      .put('/app/billing/payment/mandate')
      .form(mandate())
      .withCsrfToken()
      .loginAs(member)
    refused.assertStatus(403)
    assert.isNull(await PaymentMethod.findBy('company_id', company.id))
  })

  test('a mandate is stored encrypted: the raw row holds no IBAN and no holder; the page shows it masked; audited', async ({
    client,
    assert,
  }) => {
    const company = await makeCompany('active')
    const admin = await makeUser('admin', company)
    const mark = await auditMark()
    const saved = await client
      .put('/app/billing/payment/mandate')
      .form(mandate())
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    saved.assertStatus(302)
    assert.equal(saved.header('location'), PAGE)

    const raw = await db.from('payment_methods').where('company_id', company.id).firstOrFail()
    assert.equal(raw.method, 'sepa_debit')
    assert.equal(raw.mandate_scheme, 'B2B')
    assert.match(raw.mandate_reference, new RegExp(`^FC-${company.id}-[A-Z2-9]{8}$`))
    const everything = JSON.stringify(raw)
    for (const plain of ['DE89370400440532013000', '370400440532013000', '0532 0130', 'Demo GmbH'])
      assert.notInclude(everything, plain)
    assert.deepEqual(new PaymentDetailsService().open(raw.mandate_sealed), {
      accountHolder: 'Demo GmbH',
      iban: 'DE89370400440532013000',
      bic: null,
    })

    const page = await client.get(PAGE).loginAs(admin)
    assert.include(page.text(), 'DE89 **** **** **** **30 00')
    assert.include(page.text(), raw.mandate_reference)
    assert.notInclude(page.text(), '3704 0044')

    const entries = await auditSince(mark).where('action', 'billing.payment.mandate_saved')
    assert.lengthOf(entries, 1)
    assert.equal(entries[0].companyId, company.id)
    assert.deepInclude(entries[0].details as object, {
      iban: 'DE89 **** **** **** **30 00',
      scheme: 'B2B',
      reference: raw.mandate_reference,
    })
    assert.notInclude(JSON.stringify(entries[0].details), '3704')
  })

  test('a wrong IBAN shows its error next to the field, in German and in English; nothing is stored', async ({
    client,
    assert,
  }) => {
    const company = await makeCompany('active')
    const owner = await makeUser('owner', company)
    const bad = await client
      .put('/app/billing/payment/mandate')
      .form(mandate({ iban: 'DE88 3704 0044 0532 0130 00', confirm: '' }))
      .header('referer', PAGE)
      .withCsrfToken()
      .loginAs(owner)
      .redirects(0)
    const errors = bad.flashMessages().inputErrorsBag as Record<string, string[]>
    assert.deepEqual(errors.iban, [
      'Die Prüfziffern dieser IBAN stimmen nicht; bitte vertippen prüfen.',
    ])
    assert.deepEqual(errors.confirm, ['Bitte bestätigen Sie das unterschriebene Mandat.'])
    const form = await client.get(PAGE).withFlashMessages(bad.flashMessages()).loginAs(owner)
    assert.match(
      form.text(),
      /data-error-for="iban">\s*<span>Die Prüfziffern dieser IBAN stimmen nicht/
    )
    assert.match(form.text(), /data-error-for="confirm"/)
    assert.isNull(await PaymentMethod.findBy('company_id', company.id))

    owner.locale = 'en'
    await owner.save()
    const english = await client
      .put('/app/billing/payment/mandate')
      .form(mandate({ iban: 'CH93 0076 2011 6238 5295 7', bic: '' }))
      .header('referer', PAGE)
      .header('accept-language', 'en')
      .withCsrfToken()
      .loginAs(owner)
      .redirects(0)
    const englishErrors = english.flashMessages().inputErrorsBag as Record<string, string[]>
    assert.deepEqual(englishErrors.bic, ['Accounts outside the EEA need the BIC.'])
    assert.notProperty(englishErrors, 'iban')
    const englishForm = await client
      .get(PAGE)
      .withFlashMessages(english.flashMessages())
      .header('accept-language', 'en')
      .loginAs(owner)
    assert.match(
      englishForm.text(),
      /data-error-for="bic">\s*<span>Accounts outside the EEA need the BIC\./
    )

    await client
      .put('/app/billing/payment/mandate')
      .form(mandate({ iban: 'CH93 0076 2011 6238 5295 7', bic: 'ubsw ch zh 80a', scheme: 'CORE' }))
      .withCsrfToken()
      .loginAs(owner)
    const swiss = await new PaymentDetailsService().view(company.id)
    assert.deepInclude(swiss, {
      bic: 'UBSWCHZH80A',
      maskedIban: 'CH93 **** **** **** *295 7',
      scheme: 'CORE',
    })
  })

  test('bank transfer instead: the mandate details are deleted, a new mandate gets a new reference', async ({
    client,
    assert,
  }) => {
    const company = await makeCompany('active')
    const owner = await makeUser('owner', company)
    await client.put('/app/billing/payment/mandate').form(mandate()).withCsrfToken().loginAs(owner)
    const first = await PaymentMethod.findByOrFail('company_id', company.id)
    await client
      .put('/app/billing/payment/mandate')
      .form(mandate({ scheme: 'CORE' }))
      .withCsrfToken()
      .loginAs(owner)
    await first.refresh()
    assert.notEqual(first.mandateReference, null)
    const mark = await auditMark()
    await client.put('/app/billing/payment/transfer').withCsrfToken().loginAs(owner)
    await first.refresh()
    assert.deepInclude(first.serialize(), {
      method: 'bank_transfer',
      mandateReference: null,
      mandateScheme: null,
    })
    assert.isNull(first.mandateSealed)
    assert.lengthOf(await auditSince(mark).where('action', 'billing.payment.transfer_chosen'), 1)
    const page = await client.get(PAGE).loginAs(owner)
    assert.include(page.text(), 'data-method="bank_transfer"')
  })
})
