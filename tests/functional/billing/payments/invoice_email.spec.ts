import { randomUUID } from 'node:crypto'
import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import { DateTime } from 'luxon'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { auditMark, auditSince } from '#tests/support/audit'
import { lastMailTo } from '#tests/support/mail'
import { makePayable } from '#tests/support/payments'
import { JUNE, RUN_TIME, defaultTariff, ratedCall, seatAndNumber } from '#tests/support/invoices'
import InvoiceIssuer from '#billing/services/invoice_issuer'
import { FakeVatIdChecker } from '#billing/vat_id_checker'
import PaymentReminderMailJob from '#billing/payments/jobs/payment_reminder_mail_job'

/** The company's invoice e-mail address: BT-49 unless a Leitweg-ID, never the owner's when given. */

const PAGE = '/app/billing/payment'

async function xmlOf(company: Awaited<ReturnType<typeof makeCompany>>) {
  const outcome = await new InvoiceIssuer(new FakeVatIdChecker([])).issueMonthly(company, JUNE, {
    now: RUN_TIME,
  })
  if (outcome.outcome !== 'issued') throw new Error('not issued')
  await outcome.invoice.load('documents')
  return outcome.invoice.documents
    .find((document) => document.kind === 'xml')!
    .content.toString('utf8')
}

test.group('Payments: the invoice e-mail address (BT-49)', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('the page says the owner address is used until an invoice address is given; it is validated, saved, audited without the address, and the e-invoice names it', async ({
    client,
    assert,
  }) => {
    await defaultTariff()
    const company = await makeCompany('active', {
      approvedAt: DateTime.fromISO('2026-01-05T09:00:00Z'),
    })
    const owner = await makeUser('owner', company)
    await seatAndNumber(owner, company, '2026-06-16T08:00:00+02:00', '2026-05-01T08:00:00+02:00')
    await ratedCall(owner, '+4930123456', 61)

    const before = await client.get(PAGE).loginAs(owner)
    assert.include(before.text(), 'data-kind="owner_email"')
    assert.include(before.text(), owner.email)

    const wrong = await client
      .put(`${PAGE}/invoice-email`)
      .form({ invoice_email: 'rechnungen at firma' })
      .withCsrfToken()
      .loginAs(owner)
      .redirects(0)
    assert.equal(
      (wrong.flashMessage('inputErrorsBag') as any)?.invoice_email?.[0],
      'Bitte eine gültige E-Mail-Adresse eingeben.'
    )
    await company.refresh()
    assert.isNull(company.invoiceEmail)

    const mark = await auditMark()
    const saved = await client
      .put(`${PAGE}/invoice-email`)
      .form({ invoice_email: ' rechnungen@firma.example ' })
      .withCsrfToken()
      .loginAs(owner)
      .redirects(0)
    saved.assertStatus(302)
    await company.refresh()
    assert.equal(company.invoiceEmail, 'rechnungen@firma.example')
    const audit = await auditSince(mark).where('action', 'billing.invoice_email.changed')
    assert.lengthOf(audit, 1)
    assert.deepEqual(audit[0].details, { change: 'set', domain: 'firma.example' })
    const after = await client.get(PAGE).loginAs(owner)
    assert.include(after.text(), 'data-kind="invoice_email"')
    assert.include(after.text(), 'Ihre E-Rechnungen sind an rechnungen@firma.example adressiert.')

    const xml = await xmlOf(company)
    assert.match(
      xml,
      /<ram:URIUniversalCommunication>\s*<ram:URIID schemeID="EM">rechnungen@firma\.example<\/ram:URIID>/
    )
    assert.notInclude(xml, owner.email)

    // A Leitweg-ID comes first, and the page says so
    company.buyerReference = '991-01234-44'
    await company.save()
    const leitweg = await client.get(PAGE).loginAs(owner)
    assert.include(leitweg.text(), 'data-kind="leitweg_id"')

    // Emptying the field removes it (audited); members cannot change it
    const removed = await client
      .put(`${PAGE}/invoice-email`)
      .form({ invoice_email: '' })
      .withCsrfToken()
      .loginAs(owner)
      .redirects(0)
    removed.assertStatus(302)
    await company.refresh()
    assert.isNull(company.invoiceEmail)
    const member = await makeUser('member', company)
    ;(
      await client
        .put(`${PAGE}/invoice-email`)
        .form({ invoice_email: 'x@firma.example' })
        .withCsrfToken()
        .loginAs(member)
        .redirects(0)
    ).assertStatus(403)
  }).timeout(60_000)

  test('payment reminders go to the invoice address too, once', async ({ assert }) => {
    const company = await makeCompany('active')
    const owner = await makeUser('owner', company)
    company.invoiceEmail = `rechnungen-${randomUUID()}@firma.example`
    await company.save()
    const payable = await makePayable(company, 11_900, '2026-10-18', '2026-11-01')
    await new PaymentReminderMailJob().handle({ payableId: payable.id, level: 1 })
    const mail = await lastMailTo(company.invoiceEmail)
    assert.equal(mail?.subject, `Zahlungserinnerung: Rechnung ${payable.invoiceNumber}`)
    assert.equal(mail?.to, company.invoiceEmail)
    assert.exists(await lastMailTo(owner.email))
  })
})
