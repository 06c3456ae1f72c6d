import vine from '@vinejs/vine'
import { emailRule, newPasswordRule } from '#accounts/validators/rules'

export const loginValidator = vine.create({
  email: vine.string().trim().toLowerCase().maxLength(254),
  password: vine.string().maxLength(128),
})

export const twoFactorChallengeValidator = vine.create({
  code: vine.string().trim().maxLength(32),
})

/** Turning 2FA off proves the person again: the current password or a current code. */
export const disableTwoFactorValidator = vine.create({
  current_password: vine.string().maxLength(128).optional(),
  code: vine.string().trim().maxLength(32).optional(),
})

export const forgotPasswordValidator = vine.create({
  email: emailRule(),
})

export const resetPasswordValidator = vine.create({
  token: vine.string().trim().maxLength(128),
  password: newPasswordRule(),
})

export const changePasswordValidator = vine.create({
  current_password: vine.string().maxLength(128),
  password: newPasswordRule(),
})

export const inviteValidator = vine.create({
  email: emailRule(),
  role: vine.string().in(['admin', 'member']),
})

export const acceptInvitationValidator = vine.create({
  token: vine.string().trim().maxLength(128),
  full_name: vine.string().trim().minLength(2).maxLength(200),
  password: newPasswordRule(),
})

/** A user's own emergency location; all empty means "use the company's address". */
export const emergencyLocationValidator = vine.create({
  emergency_street: vine.string().trim().minLength(3).maxLength(200).optional(),
  emergency_postal_code: vine
    .string()
    .trim()
    .regex(/^[A-Z0-9 -]{3,10}$/i)
    .optional()
    .requiredIfExists('emergency_street'),
  emergency_city: vine
    .string()
    .trim()
    .minLength(2)
    .maxLength(120)
    .optional()
    .requiredIfExists('emergency_street'),
  emergency_country: vine
    .string()
    .trim()
    .toUpperCase()
    .fixedLength(2)
    .optional()
    .requiredIfExists('emergency_street'),
})

export const staffValidator = vine.create({
  email: emailRule(),
  full_name: vine.string().trim().minLength(2).maxLength(200),
  role: vine.string().in(['superadmin', 'support', 'fraud_analyst', 'privacy_officer']),
})
