import {
  electronicFormatIBAN,
  isSEPACountry,
  isValidBIC,
  validateIBAN,
  ValidationErrorsIBAN,
} from 'ibantools'

import { isInEea } from '#core/eea'

/**
 * IBAN and BIC checks with ibantools (ISO 13616 structure per country and the ISO 7064 mod 97-10
 * check digits), and the SEPA rule on when a BIC is still needed.
 */

export type IbanProblem = 'format' | 'checksum' | 'country' | 'not_sepa'

/** "de89 3704 0044 0532 0130 00" → "DE89370400440532013000" (spaces and case do not matter). */
export function normalizeIban(input: string) {
  return electronicFormatIBAN(input.trim()) ?? ''
}

/** Null when the IBAN is valid and of a SEPA country; otherwise why not. */
export function ibanProblem(input: string): IbanProblem | null {
  const iban = normalizeIban(input)
  const result = validateIBAN(iban)
  if (!result.valid) {
    const errors = new Set(result.errorCodes)
    if (errors.has(ValidationErrorsIBAN.NoIBANCountry)) return 'country'
    const malformed = [
      ValidationErrorsIBAN.NoIBANProvided,
      ValidationErrorsIBAN.WrongBBANLength,
      ValidationErrorsIBAN.WrongBBANFormat,
    ]
    return malformed.some((code) => errors.has(code)) ? 'format' : 'checksum'
  }
  if (!isSEPACountry(iban.slice(0, 2))) return 'not_sepa'
  return null
}

export function isValidIban(input: string) {
  return ibanProblem(input) === null
}

/**
 * Since February 2016 (Regulation (EU) 260/2012, Art. 5(7)) a debit between EEA accounts needs
 * only the IBAN ("IBAN only"); the EPC rulebooks still require the BIC when the debtor's account
 * is in a SEPA country outside the EEA (Switzerland, the United Kingdom, Monaco, San Marino, ...).
 */
export function bicRequired(input: string) {
  const country = normalizeIban(input).slice(0, 2)
  return isSEPACountry(country) && !isInEea(country)
}

export function normalizeBic(input: string) {
  return input.replace(/\s+/g, '').toUpperCase()
}

export function isValidBic(input: string) {
  return isValidBIC(normalizeBic(input))
}

/**
 * The IBAN as shown after saving: country and check digits and the last four characters, the rest
 * starred in groups of four ("DE89 **** **** **** **30 00").
 */
export function maskIban(input: string) {
  const iban = normalizeIban(input) || input.replace(/\s+/g, '').toUpperCase()
  const masked = iban.slice(0, 4) + '*'.repeat(Math.max(0, iban.length - 8)) + iban.slice(-4)
  return masked.replace(/(.{4})(?=.)/g, '$1 ')
}
