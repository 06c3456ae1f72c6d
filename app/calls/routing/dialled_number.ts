/** Emergency short codes, matched on the dialled string before any normalisation. */
export const EMERGENCY_NUMBERS = ['110', '112'] as const

/** Country calling codes for the countries our customers dial from (national numbers need it). */
const CALLING_CODES: Record<string, string> = {
  DE: '49', AT: '43', CH: '41', FR: '33', NL: '31', BE: '32', LU: '352', IT: '39', ES: '34',
  PL: '48', CZ: '420', DK: '45', SE: '46', FI: '358', IE: '353', PT: '351', NO: '47', GB: '44',
}

export function callingCodeOf(country: string) {
  return CALLING_CODES[country.toUpperCase()] ?? null
}

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
  const compact = dialled.trim().replace(/[\s\-/().]/g, '')
  let digits: string
  if (compact.startsWith('+')) digits = compact.slice(1)
  else if (compact.startsWith('00')) digits = compact.slice(2)
  else if (compact.startsWith('0')) {
    const code = callingCodeOf(callerCountry)
    if (!code) return null
    digits = code + compact.slice(1)
  } else return null
  return /^[1-9]\d{5,14}$/.test(digits) ? digits : null
}
