import { validateCreditorID } from 'sepa'

/**
 * The SEPA creditor identifier (EPC262-08, "Creditor Identifier Overview"): country code, two check
 * digits, a three-character creditor business code (ignored by the check, "ZZZ" in Germany) and the
 * national identifier, at most 35 characters. The check digits are ISO 7064 mod 97-10 over the
 * national identifier followed by the country code and "00" (sepa.js computes it).
 */
const FORMAT = /^[A-Z]{2}\d{2}[A-Z0-9]{3}[A-Z0-9]{1,28}$/
/** The German national part: 11 characters ("DE98ZZZ09999999999"). */
const GERMAN = /^DE\d{2}[A-Z0-9]{3}\d{11}$/

export function normalizeCreditorId(input: string) {
  return input.replace(/\s+/g, '').toUpperCase()
}

export function isValidCreditorId(input: string) {
  const id = normalizeCreditorId(input)
  if (!FORMAT.test(id)) return false
  if (id.startsWith('DE') && !GERMAN.test(id)) return false
  return validateCreditorID(id)
}
