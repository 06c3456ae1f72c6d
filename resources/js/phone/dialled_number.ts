import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js'

/** Emergency numbers go out exactly as typed (the server recognises them before anything else). */
export const EMERGENCY_NUMBERS = ['110', '112'] as const

export type DialledNumber =
  | { ok: true; number: string; kind: 'e164' | 'emergency' | 'service' | 'extension' }
  | { ok: false; reason: 'empty' | 'invalid' }

/** What people type between digits: spaces, dashes, dots, slashes, brackets. */
const SEPARATORS = /[\s\-./()]/g

/**
 * Turns what the user typed into what the INVITE carries: E.164 (+4930...) for phone numbers,
 * national ones read in the company's country; 110, 112, the echo-test code and extensions unchanged.
 */
export function normaliseDialled(
  input: string,
  defaultCountry: string,
  serviceCodes: readonly string[] = []
): DialledNumber {
  const compact = input.replace(SEPARATORS, '')
  if (compact === '') return { ok: false, reason: 'empty' }
  if ((EMERGENCY_NUMBERS as readonly string[]).includes(compact))
    return { ok: true, number: compact, kind: 'emergency' }
  if (serviceCodes.includes(compact)) return { ok: true, number: compact, kind: 'service' }
  // A colleague's extension (2-4 digits, never a leading 0): the server knows the company's.
  if (/^[1-9]\d{1,3}$/.test(compact)) return { ok: true, number: compact, kind: 'extension' }
  if (!/^(\+|00)?\d{3,17}$/.test(compact)) return { ok: false, reason: 'invalid' }
  const parsed = parsePhoneNumberFromString(compact, asCountry(defaultCountry))
  if (!parsed || !parsed.isValid()) return { ok: false, reason: 'invalid' }
  return { ok: true, number: parsed.number, kind: 'e164' }
}

/**
 * A number as people read it: "+4930901820" → "+49 30 901820" (grouped like the server's pages).
 * Extensions, service codes, withheld and unparseable values stay exactly as they are.
 */
export function displayNumber(value: string): string {
  if (!value.startsWith('+')) return value
  return parsePhoneNumberFromString(value)?.formatInternational() ?? value
}

function asCountry(code: string): CountryCode | undefined {
  return /^[A-Z]{2}$/.test(code) ? (code as CountryCode) : undefined
}
