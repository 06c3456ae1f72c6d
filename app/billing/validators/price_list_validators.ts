import vine from '@vinejs/vine'
import type { I18n } from '@adonisjs/i18n'
import { CENT_AMOUNT } from '#billing/amounts'
import { BILLING_INCREMENTS } from '#billing/tariff_arithmetic'

/** A company's override list (the default list exists from the migrations' seed or the first create). */
export const priceListValidator = vine.create({
  name: vine.string().trim().minLength(2).maxLength(80),
  company_id: vine.number().withoutDecimals().positive().nullable().optional(),
})

export const versionValidator = vine.create({
  valid_from: vine
    .string()
    .trim()
    .regex(/^\d{4}-\d{2}-\d{2}$/),
})

/** Amounts in cents, with a comma or a dot and up to four decimals ("0,89"). */
export const rateValidator = vine.create({
  prefix: vine
    .string()
    .trim()
    .regex(/^\d{0,15}$/)
    .optional(),
  destination: vine.string().trim().minLength(1).maxLength(80),
  price: vine.string().trim().regex(CENT_AMOUNT),
  connection_fee: vine.string().trim().regex(CENT_AMOUNT),
  increment: vine.enum(BILLING_INCREMENTS),
})

/** Monthly fees in cents; empty: none (an override then takes the default list's fee). */
export const feesValidator = vine.create({
  seat_fee: vine.string().trim().regex(CENT_AMOUNT).optional(),
  number_fee: vine.string().trim().regex(CENT_AMOUNT).optional(),
})

export const purchasePriceValidator = vine.create({
  carrier_name: vine
    .string()
    .trim()
    .regex(/^[a-z0-9_]{1,40}$/),
  prefix: vine
    .string()
    .trim()
    .regex(/^\d{0,15}$/)
    .optional(),
  price: vine.string().trim().regex(CENT_AMOUNT),
})

export const versionQueryValidator = vine.create({
  version: vine.number().withoutDecimals().positive().optional(),
})

export function billingMessages(i18n: I18n) {
  return i18n.createMessagesProvider('billing.validator')
}
