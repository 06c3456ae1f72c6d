/**
 * The one reading of phone numbers as E.164 (ITU-T E.164): a country code whose first digit is
 * 1-9, at most 15 digits in all, and at least 7 (the shortest numbers in use, e.g. +290 xxxx).
 * Calls (routing, our numbers, caller IDs from carriers) and billing (rating) all read numbers here.
 */
const E164_DIGITS = /^[1-9]\d{6,14}$/

/** What people and peers put between digits: blanks, dashes, slashes, brackets, dots. */
const SEPARATORS = /[\s\-/().]/g

/** Country calling codes for the countries our customers dial from (national numbers need it). */
const CALLING_CODES: Record<string, string> = {
  DE: '49',
  AT: '43',
  CH: '41',
  FR: '33',
  NL: '31',
  BE: '32',
  LU: '352',
  IT: '39',
  ES: '34',
  PL: '48',
  CZ: '420',
  DK: '45',
  SE: '46',
  FI: '358',
  IE: '353',
  PT: '351',
  NO: '47',
  GB: '44',
}

export function callingCodeOf(country: string): string | null {
  return CALLING_CODES[country.toUpperCase()] ?? null
}

export interface E164Options {
  /** A national number ("030 1234567") is read with this country's calling code. */
  country?: string
  /**
   * Digits without any prefix ("4930…") are taken as international: carriers signal numbers so,
   * and number forms accept them. Off for what a user dials ("1234567" is a local number).
   */
  bareIsInternational?: boolean
}

/**
 * "+49 30 1234567", "0049 30 1234567", with `country` "030 1234567", with `bareIsInternational`
 * "49301234567": the E.164 digits without "+" ("49301234567"). Null when it is no such number.
 */
export function e164Digits(
  text: string | null | undefined,
  options: E164Options = {}
): string | null {
  if (!text) return null
  const compact = text.trim().replace(SEPARATORS, '')
  let digits: string | null
  if (compact.startsWith('+')) digits = compact.slice(1)
  else if (compact.startsWith('00')) digits = compact.slice(2)
  else if (compact.startsWith('0')) {
    const code = options.country ? callingCodeOf(options.country) : null
    digits = code ? code + compact.slice(1) : null
  } else digits = options.bareIsInternational ? compact : null
  return digits !== null && E164_DIGITS.test(digits) ? digits : null
}

/** The same number with its "+" ("+49301234567"), as we store and show it; null when it is none. */
export function toE164(text: string | null | undefined, options: E164Options = {}): string | null {
  const digits = e164Digits(text, options)
  return digits === null ? null : `+${digits}`
}
