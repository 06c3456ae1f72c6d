import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import { collectionDate, isTargetBusinessDay } from '#billing/payments/collection_date'
import { centsToDecimal, decimalToCents } from '#billing/payments/sepa_amount'
import { checkSums } from '#billing/payments/services/debit_file_service'
import { formatEuro } from '#billing/payments/money'

const day = (iso: string) => DateTime.fromISO(iso, { zone: 'utc' })

test.group('Payments: collection date and exact amounts', () => {
  test('the debit waits for the pre-notification period, the due date and D-1, on a TARGET2 business day', ({
    assert,
  }) => {
    const payable = { issuedOn: day('2026-11-30'), dueOn: day('2026-12-07') }
    // 14 days after the invoice: Monday 14 December, later than the due date
    assert.equal(
      collectionDate(payable, { preNotificationDays: 14, today: day('2026-12-01') }).toISODate(),
      '2026-12-14'
    )
    // A contract with a shorter period: the due date decides
    assert.equal(
      collectionDate(payable, { preNotificationDays: 5, today: day('2026-12-01') }).toISODate(),
      '2026-12-07'
    )
    // A late file: at least the next business day after today
    assert.equal(
      collectionDate(payable, { preNotificationDays: 5, today: day('2026-12-10') }).toISODate(),
      '2026-12-11'
    )
    // Landing on Christmas: 24 Dec + 1 = Friday 25th (closed), Saturday, Sunday, Monday 28th
    const christmas = { issuedOn: day('2026-12-10'), dueOn: day('2026-12-10') }
    assert.equal(
      collectionDate(christmas, { preNotificationDays: 15, today: day('2026-12-01') }).toISODate(),
      '2026-12-28'
    )
  })

  test('TARGET2 closing days: weekends, New Year, Good Friday, Easter Monday, 1 May, Christmas', ({
    assert,
  }) => {
    for (const closed of [
      '2027-01-01',
      '2027-03-26',
      '2027-03-29',
      '2027-05-01',
      '2026-12-25',
      '2026-12-26',
      '2026-12-12',
    ]) {
      assert.isFalse(isTargetBusinessDay(day(closed)), closed)
    }
    for (const open of ['2027-03-25', '2027-03-30', '2026-12-24', '2026-12-14'])
      assert.isTrue(isTargetBusinessDay(day(open)), open)
  })

  test('cents become two-decimal amounts by integer arithmetic, and back', ({ assert }) => {
    assert.equal(centsToDecimal(0), '0.00')
    assert.equal(centsToDecimal(5), '0.05')
    assert.equal(centsToDecimal(435), '4.35')
    assert.equal(centsToDecimal(99_999_999_999), '999999999.99')
    assert.equal(decimalToCents('4.35'), 435)
    assert.throws(() => centsToDecimal(4.5))
    assert.throws(() => decimalToCents('4.3'))
    assert.equal(formatEuro(123456, 'de'), '1.234,56 €')
    assert.equal(formatEuro(123456, 'en'), '€1,234.56')
  })

  test('the sum check refuses a document whose control sum or amounts differ from the cents', ({
    assert,
  }) => {
    const doc = (ctrl: string, amounts: string[]) =>
      `<GrpHdr><NbOfTxs>${amounts.length}</NbOfTxs><CtrlSum>${ctrl}</CtrlSum></GrpHdr><PmtInf><NbOfTxs>${amounts.length}</NbOfTxs><CtrlSum>${ctrl}</CtrlSum>` +
      amounts
        .map((amount) => `<DrctDbtTxInf><InstdAmt Ccy="EUR">${amount}</InstdAmt></DrctDbtTxInf>`)
        .join('') +
      '</PmtInf>'
    const debits = [{ amountCents: 10 }, { amountCents: 20 }]
    assert.doesNotThrow(() => checkSums(doc('0.30', ['0.10', '0.20']), debits))
    assert.throws(() => checkSums(doc('0.31', ['0.10', '0.20']), debits))
    assert.throws(() => checkSums(doc('0.30', ['0.10', '0.21']), debits))
    assert.throws(() => checkSums(doc('0.30', ['0.30']), debits))
  })
})
