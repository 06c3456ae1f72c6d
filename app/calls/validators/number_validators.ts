import vine from '@vinejs/vine'
import type { I18n } from '@adonisjs/i18n'
import { MAX_BLOCK_SIZE } from '#calls/services/number_block'

/** One number, a range "from-to", or a start number with `count`; number_block.ts checks the format. */
const block = {
  numbers: vine.string().trim().maxLength(40),
  count: vine.number().withoutDecimals().range([1, MAX_BLOCK_SIZE]).optional(),
}

export const importNumbersValidator = vine.create({
  carrier: vine.string().trim().maxLength(40),
  ...block,
})

export const assignNumbersValidator = vine.create({
  company_id: vine.number().withoutDecimals().positive(),
  ...block,
})

export const numberFiltersValidator = vine.create({
  carrier: vine.string().trim().maxLength(40).optional(),
  company_id: vine.number().withoutDecimals().positive().optional(),
  free: vine.boolean().optional(),
  page: vine.number().withoutDecimals().positive().optional(),
})

/** Company side: an empty choice means "nobody" (the number goes back to the company's shared lines). */
export const assignUserValidator = vine.create({
  user_id: vine.number().withoutDecimals().positive().nullable(),
})

export const defaultCallerIdValidator = vine.create({
  phone_number_id: vine.number().withoutDecimals().positive().nullable(),
})

export const numberBlockActionValidator = vine.create({
  action: vine.string().in(['release', 'delete']),
  ...block,
})

/** Number and route forms use their own messages (resources/lang/{de,en}/numbers.json), in German and English. */
export function numberMessages(i18n: I18n) {
  return i18n.createMessagesProvider('numbers.validator')
}
