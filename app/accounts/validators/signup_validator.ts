import vine from '@vinejs/vine'
import { countryRule, emailRule, newPasswordRule, vatIdRule } from '#accounts/validators/rules'
import { DATA_RESIDENCIES } from '#accounts/models/company'

/**
 * Self sign-up of a company and its owner. Business customers only: the company's legal data and
 * either a VAT ID or a commercial register entry are required, and the applicant confirms acting
 * for a business.
 */
export const signupValidator = vine.create({
  legal_name: vine.string().trim().minLength(2).maxLength(200),
  legal_form: vine.string().trim().minLength(2).maxLength(60),
  country: countryRule(),
  vat_id: vine
    .string()
    .trim()
    .maxLength(20)
    .use(vatIdRule())
    .optional()
    .requiredIfMissing('register_entry'),
  register_entry: vine.string().trim().minLength(4).maxLength(120).optional(),
  billing_street: vine.string().trim().minLength(3).maxLength(200),
  billing_postal_code: vine
    .string()
    .trim()
    .regex(/^[A-Z0-9 -]{3,10}$/i),
  billing_city: vine.string().trim().minLength(2).maxLength(120),
  data_residency: vine.string().in(DATA_RESIDENCIES as unknown as string[]),
  privacy_contact_name: vine.string().trim().minLength(2).maxLength(200),
  privacy_contact_email: emailRule(),
  full_name: vine.string().trim().minLength(2).maxLength(200),
  // No uniqueness check here: the answer must not reveal whether the address has an account.
  email: emailRule(),
  password: newPasswordRule(),
  business_confirmation: vine.accepted(),
})
