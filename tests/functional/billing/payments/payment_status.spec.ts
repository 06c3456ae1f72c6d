import { randomUUID } from 'node:crypto'
import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import app from '@adonisjs/core/services/app'
import { DateTime } from 'luxon'
import type Company from '#accounts/models/company'
import type User from '#accounts/models/user'
import type { CallAttempt } from '#calls/gates/call_gate'
import PaymentStatusService from '#billing/payments/services/payment_status_service'
import PaymentSuspension from '#billing/payments/models/payment_suspension'
import SepaDebit from '#billing/payments/models/sepa_debit'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { auditMark, auditSince } from '#tests/support/audit'
import { recordDispatches, runDispatched } from '#tests/support/jobs'
import { lastMailTo } from '#tests/support/mail'
import { giveMandate, makePayable } from '#tests/support/payments'
import { enableTwoFactor } from '#tests/support/two_factor'
import Invoice from '#billing/models/invoice'
import PaymentPayable from '#billing/payments/models/payment_payable'

/** Payment status on an injected clock: reminders, suspension through the call gate, paid, returned debits. */

async function statusAt(iso: string) {
  return (await app.container.make(PaymentStatusService)).use({
    now: () => DateTime.fromISO(iso, { zone: 'utc' }),
  })
}

function attempt(company: Company, user: User): CallAttempt {
  return {
    company,
    user,
    destination: '+4930123456',
    carrierNames: ['first'],
    callUuid: randomUUID(),
    deviceId: null,
    sourceAddress: '127.0.0.2',
    kind: 'direct',
    pricePerMinuteCents: null,
  }
}

async function staff() {
  const user = await makeUser('superadmin')
  await enableTwoFactor(user)
  return user
}

test.group('Payments: payment status, reminders and suspension', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('reminders on the configured days by mail through the queue; suspended after 28 days; the call gate refuses; paying lifts it', async ({
    client,
    assert,
    cleanup,
  }) => {
    const dispatched = await recordDispatches(cleanup)
    const company = await makeCompany('active')
    const owner = await makeUser('owner', company)
    const admin = await makeUser('admin', company)
    admin.locale = 'en'
    await admin.save()
    const member = await makeUser('member', company)
    const bystander = await makeCompany('active')
    const payable = await makePayable(company, 11_900, '2026-10-18', '2026-11-01')
    const mark = await auditMark()

    // Only this company's payable counts (the test database may hold other suites' invoices)
    const mine = (result: { reminded: string[]; suspended: number[] }) => ({
      reminded: result.reminded.filter((number) => number === payable.invoiceNumber),
      suspended: result.suspended.filter((id) => id === company.id),
    })
    assert.deepEqual(mine(await (await statusAt('2026-11-07T12:00:00Z')).run()).reminded, [])
    assert.deepEqual(mine(await (await statusAt('2026-11-08T12:00:00Z')).run()).reminded, [
      payable.invoiceNumber,
    ])
    assert.deepEqual(
      mine(await (await statusAt('2026-11-08T18:00:00Z')).run()).reminded,
      [],
      'one reminder per level'
    )
    const reminders = dispatched.filter((entry) => entry.payload.payableId === payable.id)
    assert.lengthOf(reminders, 1)
    assert.deepEqual(reminders[0].payload, { payableId: payable.id, level: 1 })
    await runDispatched(dispatched)
    const german = await lastMailTo(owner.email)
    assert.equal(german?.subject, `Zahlungserinnerung: Rechnung ${payable.invoiceNumber}`)
    assert.include(german!.html, '119,00 €')
    assert.equal(
      (await lastMailTo(admin.email))?.subject,
      `Payment reminder: invoice ${payable.invoiceNumber}`
    )
    assert.isNull(await lastMailTo(member.email))

    const second = mine(await (await statusAt('2026-11-15T12:00:00Z')).run())
    assert.deepEqual(second, { reminded: [payable.invoiceNumber], suspended: [] })
    const gates = await app.container.make('calls.gates')
    assert.isTrue(
      (await gates.check(attempt(company, owner))).allow,
      'not suspended before 28 days'
    )

    const late = mine(await (await statusAt('2026-11-29T08:00:00Z')).run())
    assert.deepEqual(late.suspended, [company.id])
    assert.deepInclude(await gates.check(attempt(company, owner)), {
      allow: false,
      reason: 'payment_overdue',
      gate: 'payment_overdue',
    })
    assert.isTrue(
      (await gates.check(attempt(bystander, await makeUser('member', bystander)))).allow
    )
    assert.deepEqual(
      mine(await (await statusAt('2026-11-30T08:00:00Z')).run()).suspended,
      [],
      'suspended once'
    )

    const actions = (await auditSince(mark).where('company_id', company.id).orderBy('id')).map(
      (entry) => entry.action
    )
    assert.deepEqual(actions, [
      'billing.payment.reminder_sent',
      'billing.payment.reminder_sent',
      'billing.payment.calls_suspended',
    ])

    // Shown to staff on the overdue page
    const admin2 = await staff()
    const page = await client.get('/admin/billing/payments/overdue').loginAs(admin2)
    page.assertStatus(200)
    assert.match(
      page.text(),
      new RegExp(`data-invoice="${payable.invoiceNumber}" data-suspended="yes"`)
    )
    const support = await makeUser('support')
    await enableTwoFactor(support)
    ;(await client.get('/admin/billing/payments/overdue').loginAs(support)).assertStatus(403)

    // Staff mark it paid: the suspension ends, calls go through again
    const paidMark = await auditMark()
    await client
      .post('/admin/billing/payments/overdue/paid')
      .form({ invoice_number: payable.invoiceNumber, paid_on: '2026-11-30' })
      .withCsrfToken()
      .loginAs(admin2)
    await payable.refresh()
    assert.equal(payable.status, 'paid')
    assert.isNotNull((await PaymentSuspension.findByOrFail('company_id', company.id)).liftedAt)
    assert.isTrue((await gates.check(attempt(company, owner))).allow)
    const after = (await auditSince(paidMark).orderBy('id')).map((entry) => entry.action)
    assert.deepEqual(after, ['billing.payment.marked_paid', 'billing.payment.calls_resumed'])
  })

  test('a returned debit makes the payable unpaid with its reason; until then a running debit is not overdue', async ({
    client,
    assert,
  }) => {
    const company = await makeCompany('active')
    const mandate = await giveMandate(company, 'DE89370400440532013000')
    const payable = await makePayable(company, 4_990, '2026-10-31', '2026-11-14')
    await SepaDebit.create({
      payableId: payable.id,
      messageId: 'FC-DD-202610-1',
      mandateReference: mandate.mandateReference!,
      scheme: 'CORE',
      sequenceType: 'FRST',
      amountCents: 4_990,
      collectionOn: DateTime.fromISO('2026-11-16'),
      endToEndId: `${payable.invoiceNumber}-1`,
      status: 'submitted',
    })
    const status = await statusAt('2026-12-20T12:00:00Z')
    assert.lengthOf(
      (await status.overdue()).filter((line) => line.payable.companyId === company.id),
      0,
      'a debit under way is not overdue'
    )

    const admin = await staff()
    const unknown = await client
      .post('/admin/billing/payments/overdue/returns')
      .form({ invoice_number: 'NOPE-1', reason: 'AM04' })
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    assert.equal(
      unknown.flashMessage('errorsBag.invoice_number'),
      'Diese Rechnungsnummer kennen wir nicht.'
    )
    const badReason = await client
      .post('/admin/billing/payments/overdue/returns')
      .form({ invoice_number: payable.invoiceNumber, reason: 'XX99' })
      .header('referer', '/admin/billing/payments/overdue')
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    assert.property(badReason.flashMessages().inputErrorsBag, 'reason')

    const mark = await auditMark()
    await client
      .post('/admin/billing/payments/overdue/returns')
      .form({ invoice_number: payable.invoiceNumber, reason: 'AM04' })
      .withCsrfToken()
      .loginAs(admin)
    await payable.refresh()
    assert.equal(payable.status, 'returned')
    const debit = await SepaDebit.findByOrFail('payable_id', payable.id)
    assert.deepInclude(debit.serialize(), { status: 'returned', returnReason: 'AM04' })
    const entries = await auditSince(mark).where('action', 'billing.payment.debit_returned')
    assert.deepInclude(entries[0].details as object, {
      invoice: payable.invoiceNumber,
      reason: 'AM04',
    })

    const lines = (await status.overdue()).filter((line) => line.payable.companyId === company.id)
    assert.deepEqual(
      lines.map((line) => [line.payable.invoiceNumber, line.daysOverdue, line.returnReason]),
      [[payable.invoiceNumber, 36, 'AM04']]
    )
    const page = await client.get('/admin/billing/payments/overdue').loginAs(admin)
    assert.include(page.text(), 'Lastschrift zurück: Deckung unzureichend')
  })

  test('issued invoices become payables; paid shows on the invoice; a cancelled invoice is no longer due', async ({
    assert,
  }) => {
    const company = await makeCompany('active')
    const invoice = async (number: string) =>
      Invoice.create({
        number,
        type: 'invoice',
        companyId: company.id,
        periodYear: 2026,
        periodMonth: 10,
        runKey: `${company.id}:${number}`,
        precedingInvoiceId: null,
        invoiceRunId: null,
        issueDate: '2026-11-01',
        dueDate: '2026-11-15',
        currency: 'EUR',
        buyerName: company.legalName,
        buyerStreet: 'Teststraße 1',
        buyerPostalCode: '10115',
        buyerCity: 'Berlin',
        buyerCountry: 'DE',
        buyerVatId: null,
        buyerReference: null,
        vatTreatment: 'domestic',
        vatNote: null,
        netCents: 10_000,
        vatCents: 1_900,
        grossCents: 11_900,
        status: 'open',
        statusChangedAt: null,
        issuedAt: DateTime.fromISO('2026-11-01T06:00:00Z'),
      })
    const suffix = String(company.id).padStart(6, '0')
    const paid = await invoice(`P-${suffix}`)
    const cancelled = await invoice(`C-${suffix}`)

    const status = await statusAt('2026-11-20T12:00:00Z')
    await status.run()
    const payable = await PaymentPayable.findByOrFail('invoice_number', paid.number)
    assert.deepInclude(payable.serialize(), {
      companyId: company.id,
      grossCents: 11_900,
      currency: 'EUR',
      status: 'open',
    })
    assert.equal(payable.dueOn.toISODate(), '2026-11-15')

    await status.markPaid(paid.number, DateTime.fromISO('2026-11-20'), { actor: null, ip: null })
    await paid.refresh()
    assert.equal(paid.status, 'paid')

    await cancelled.markStatus('cancelled')
    await status.run()
    assert.equal(
      (await PaymentPayable.findByOrFail('invoice_number', cancelled.number)).status,
      'cancelled'
    )
    assert.notInclude(
      (await status.overdue()).map((line) => line.payable.invoiceNumber),
      cancelled.number
    )
  })
})
