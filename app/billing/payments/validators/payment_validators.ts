import vine from '@vinejs/vine'
import type { I18n } from '@adonisjs/i18n'
import { DateTime } from 'luxon'
import {
  bicRequired,
  ibanProblem,
  isValidBic,
  normalizeBic,
  normalizeIban,
} from '#billing/payments/iban'
import { MANDATE_SCHEMES, PAYMENT_METHODS } from '#billing/payments/models/payment_method'
import { RETURN_REASONS } from '#billing/payments/return_reasons'

/** A valid IBAN of a SEPA country, stored without spaces; the rule names what is wrong. */
const ibanRule = vine.createRule((value, _options, field) => {
  if (typeof value !== 'string') return
  const problem = ibanProblem(value)
  if (problem) {
    field.report('The IBAN is not valid', `iban_${problem}`, field)
    return
  }
  field.mutate(normalizeIban(value), field)
})

/** The BIC, checked and stored without spaces whenever given. */
const bicRule = vine.createRule((value, _options, field) => {
  if (typeof value !== 'string') return
  if (!isValidBic(value)) {
    field.report('The BIC is not valid', 'bic_format', field)
    return
  }
  field.mutate(normalizeBic(value), field)
})

/** The date the mandate was signed: a calendar date, not in the future. */
const signedOnRule = vine.createRule((value, _options, field) => {
  if (typeof value !== 'string') return
  const date = DateTime.fromISO(value, { zone: 'Europe/Berlin' })
  if (
    !date.isValid ||
    date.startOf('day') > DateTime.now().setZone('Europe/Berlin').startOf('day')
  ) {
    field.report('The date is not valid', 'signed_on', field)
  }
})

export const paymentMethodValidator = vine.create({
  method: vine.enum(PAYMENT_METHODS),
})

/** The SEPA direct debit mandate as the owner or an admin types it from the signed form. */
export const mandateValidator = vine.create({
  account_holder: vine.string().trim().minLength(2).maxLength(70),
  iban: vine.string().trim().maxLength(42).use(ibanRule()),
  // Needed for accounts outside the EEA (bicRequired)
  bic: vine
    .string()
    .trim()
    .maxLength(14)
    .use(bicRule())
    .optional()
    .requiredWhen(
      (field) => typeof field.parent.iban === 'string' && bicRequired(field.parent.iban)
    ),
  signed_on: vine
    .string()
    .trim()
    .regex(/^\d{4}-\d{2}-\d{2}$/)
    .use(signedOnRule()),
  scheme: vine.enum(MANDATE_SCHEMES),
  confirm: vine.accepted(),
})

export const returnValidator = vine.create({
  invoice_number: vine.string().trim().minLength(1).maxLength(40),
  reason: vine.enum(Object.keys(RETURN_REASONS)),
})

export const debitMonthValidator = vine.create({
  month: vine
    .string()
    .trim()
    .regex(/^\d{4}-\d{2}$/)
    .optional(),
})

export function paymentMessages(i18n: I18n) {
  return i18n.createMessagesProvider('payments.validator')
}

/** The company's invoice e-mail address; empty removes it. */
export const invoiceEmailValidator = vine.compile(
  vine.object({
    invoice_email: vine.string().trim().maxLength(254).email().optional(),
  })
)
