import { callingCodeOf, e164Digits } from '#core/e164'

/** Emergency short codes, matched on the dialled string before any normalisation. */
export const EMERGENCY_NUMBERS = ['110', '112'] as const

export { callingCodeOf }

/** "110" or "112" exactly as dialled (surrounding blanks only); no rewriting can turn something else into one. */
export function emergencyNumberOf(dialled: string) {
  const trimmed = dialled.trim()
  return (EMERGENCY_NUMBERS as readonly string[]).includes(trimmed) ? trimmed : null
}

/**
 * A dialled number as E.164 digits without "+": "+49 30 1234567", "004930…" and, with the
 * caller's country, "030 1234567". Null when it cannot be a routable number.
 */
export function toE164Digits(dialled: string, callerCountry: string) {
  return e164Digits(dialled, { country: callerCountry })
}
