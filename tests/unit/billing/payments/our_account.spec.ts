import { test } from '@japa/runner'
import invoicingConfig, { TEST_ACCOUNT_IBAN, ourAccountIban } from '#config/invoicing'
import paymentsConfig from '#config/payments'

test.group('Payments: one IBAN for our own account', () => {
  test('SEPA_CREDITOR_IBAN is the one setting: invoices and debit files name the same account', ({
    assert,
  }) => {
    assert.equal(invoicingConfig.seller.iban, paymentsConfig.creditor.iban)
    assert.equal(ourAccountIban(' de87 1234 5678 1234 5678 90 ', null), 'DE87123456781234567890')
    assert.equal(ourAccountIban('', null), TEST_ACCOUNT_IBAN)
    assert.equal(ourAccountIban(undefined, 'DE89 3704 0044 0532 0130 00'), 'DE89370400440532013000')
    // The same account written twice, spaced differently, is one account
    assert.equal(
      ourAccountIban('DE89370400440532013000', 'DE89 3704 0044 0532 0130 00'),
      'DE89370400440532013000'
    )
  })

  test('an IBAN in config/invoicing.ts that differs from SEPA_CREDITOR_IBAN refuses the start', ({
    assert,
  }) => {
    assert.throws(
      () => ourAccountIban('DE89370400440532013000', 'DE02120300000000202051'),
      'Two IBANs for our own account: SEPA_CREDITOR_IBAN is DE89370400440532013000, config/invoicing.ts sets DE02120300000000202051. SEPA_CREDITOR_IBAN is the setting: remove the IBAN from config/invoicing.ts (SELLER_IBAN_IN_CODE = null) or make both the same'
    )
  })
})
