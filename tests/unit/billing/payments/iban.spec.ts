import { test } from '@japa/runner'
import {
  bicRequired,
  ibanProblem,
  isValidBic,
  isValidIban,
  maskIban,
  normalizeIban,
} from '#billing/payments/iban'
import { isValidCreditorId } from '#billing/payments/creditor_id'
import paymentsConfig, { parseDayList, validatePaymentsConfig } from '#config/payments'

test.group('Payments: IBAN, BIC and creditor identifier', () => {
  test('valid IBANs of SEPA countries pass, with or without spaces and in any case', ({
    assert,
  }) => {
    for (const iban of [
      'DE89 3704 0044 0532 0130 00',
      'de89370400440532013000',
      'AT61 1904 3002 3457 3201',
      'FR14 2004 1010 0505 0001 3M02 606',
      'NL91 ABNA 0417 1643 00',
      'CH93 0076 2011 6238 5295 7',
      'GB29 NWBK 6016 1331 9268 19',
    ]) {
      assert.isTrue(isValidIban(iban), iban)
    }
    assert.equal(normalizeIban(' de89 3704 0044 0532 0130 00 '), 'DE89370400440532013000')
  })

  test('invalid IBANs fail with the reason: check digits, length, country, non-SEPA', ({
    assert,
  }) => {
    assert.equal(ibanProblem('DE88 3704 0044 0532 0130 00'), 'checksum')
    assert.equal(ibanProblem('DE89 3704 0044 0532 0130 01'), 'checksum')
    assert.equal(ibanProblem('DE89 3704 0044 0532 0130'), 'format')
    assert.equal(ibanProblem('XX89 3704 0044 0532 0130 00'), 'country')
    assert.equal(ibanProblem(''), 'format')
    // Brazil has IBANs but is not in SEPA
    assert.equal(ibanProblem('BR15 0000 0000 0000 1093 2840 814P 2'), 'not_sepa')
    assert.isFalse(isValidIban('DE89 3704 0044 0532 0130 0O'))
  })

  test('the BIC is needed only outside the EEA (Switzerland, United Kingdom), and checked when given', ({
    assert,
  }) => {
    assert.isFalse(bicRequired('DE89370400440532013000'))
    assert.isFalse(bicRequired('NO9386011117947'))
    assert.isTrue(bicRequired('CH9300762011623852957'))
    assert.isTrue(bicRequired('GB29NWBK60161331926819'))
    assert.isTrue(isValidBic('COBADEFFXXX'))
    assert.isTrue(isValidBic('cobade ff'))
    assert.isFalse(isValidBic('COBADE'))
    assert.isFalse(isValidBic('12BADEFF'))
  })

  test('the masked IBAN keeps country, check digits and the last four characters', ({ assert }) => {
    assert.equal(maskIban('DE89370400440532013000'), 'DE89 **** **** **** **30 00')
    assert.equal(maskIban('AT611904300234573201'), 'AT61 **** **** **** 3201')
    assert.notInclude(maskIban('DE89370400440532013000'), '3704')
  })

  test('the creditor identifier: format and ISO 7064 check digits over the national part', ({
    assert,
  }) => {
    assert.isTrue(isValidCreditorId('DE98ZZZ09999999999'))
    assert.isTrue(isValidCreditorId('de98 zzz 0999 9999 999'))
    // The business code does not enter the check digits
    assert.isTrue(isValidCreditorId('DE98ABC09999999999'))
    assert.isFalse(isValidCreditorId('DE97ZZZ09999999999'))
    assert.isFalse(isValidCreditorId('DE98ZZZ0999999999'))
    assert.isFalse(isValidCreditorId('DE98ZZZ0999999999X'))
    assert.isFalse(isValidCreditorId('98ZZZ09999999999'))
  })

  test('the creditor settings refuse to boot with a wrong creditor ID, IBAN or pre-notification period', ({
    assert,
  }) => {
    assert.doesNotThrow(() => validatePaymentsConfig(paymentsConfig))
    const wrongId = {
      ...paymentsConfig,
      creditor: { ...paymentsConfig.creditor, id: 'DE97ZZZ09999999999' },
    }
    assert.throws(() => validatePaymentsConfig(wrongId), /SEPA_CREDITOR_ID/)
    const wrongIban = {
      ...paymentsConfig,
      creditor: { ...paymentsConfig.creditor, iban: 'DE00123456781234567890' },
    }
    assert.throws(() => validatePaymentsConfig(wrongIban), /SEPA_CREDITOR_IBAN/)
    assert.throws(
      () => validatePaymentsConfig({ ...paymentsConfig, preNotificationDays: 15 }),
      /SEPA_PRE_NOTIFICATION_DAYS/
    )
    assert.deepEqual(parseDayList('14, 7', []), [7, 14])
    assert.throws(() => parseDayList('7,x', []))
  })
})
