import vine from '@vinejs/vine'
import { EU_COUNTRIES, isValidVatId, normalizeVatId } from '#accounts/vat_id'

export const emailRule = () => vine.string().trim().toLowerCase().email().maxLength(254)

/** At least 12 characters with a letter and a digit; long passphrases are welcome. */
export const newPasswordRule = () =>
  vine
    .string()
    .minLength(12)
    .maxLength(128)
    .regex(/[A-Za-z\u00C0-\u024F]/)
    .regex(/\d/)
    .confirmed({ confirmationField: 'password_confirmation' })

export const countryRule = () => vine.string().trim().toUpperCase().in(EU_COUNTRIES)

/** VAT ID valid for the company's country; spaces and dots are tolerated and removed. */
export const vatIdRule = vine.createRule((value, _options, field) => {
  if (typeof value !== 'string' || value === '') return
  const country = field.parent.country
  if (typeof country !== 'string' || !isValidVatId(value, country.toUpperCase())) {
    field.report(
      'The {{ field }} does not match the format for the chosen country',
      'vat_id',
      field
    )
    return
  }
  field.mutate(normalizeVatId(value), field)
})
