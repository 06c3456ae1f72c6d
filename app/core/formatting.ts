import { parsePhoneNumberFromString } from 'libphonenumber-js'
import type { DateTime } from 'luxon'

/**
 * Values as people read them, in the page's language: country names instead of ISO codes, phone
 * numbers grouped in international format, counts with separators. Registered as Edge globals.
 */

/** "DE" → "Deutschland" / "Germany"; anything that is not a region code stays as it is. */
export function countryName(code: string | null | undefined, locale: string): string {
  if (!code) return ''
  if (!/^[A-Za-z]{2}$/.test(code)) return code
  try {
    return (
      new Intl.DisplayNames([locale], { type: 'region', fallback: 'code' }).of(
        code.toUpperCase()
      ) ?? code
    )
  } catch {
    return code
  }
}

/**
 * "+4930123456789" → "+49 30 123456789". A number shortened for the itemised list
 * ("+49301234xxx") keeps its hidden digits hidden; what is no phone number stays as it is.
 */
export function phoneNumber(value: string | null | undefined): string {
  if (!value) return ''
  const hidden = /^(\+\d{6,})xxx$/.exec(value)
  const parsed = parsePhoneNumberFromString(hidden ? `${hidden[1]}000` : value)
  if (!parsed) return value
  const formatted = parsed.formatInternational()
  if (!hidden) return formatted
  // Put the x back over the last three digits of the grouped form
  let left = 3
  return [...formatted]
    .reverse()
    .map((character) => (left > 0 && /\d/.test(character) ? (left--, 'x') : character))
    .reverse()
    .join('')
}

/** 12345 → "12.345" / "12,345". */
export function formatCount(value: number | string | null | undefined, locale: string): string {
  if (value === null || value === undefined || value === '') return ''
  const number = Number(value)
  return Number.isFinite(number) ? new Intl.NumberFormat(locale).format(number) : String(value)
}

/** A day as people write it: "01.12.2026" / "Dec 1, 2026". */
export function formatDate(value: DateTime | null | undefined, locale: string): string {
  return value ? value.setLocale(locale).toLocaleString({ dateStyle: 'medium' }) : ''
}

/** A moment as people write it, in German time: "01.12.2026, 14:30" / "Dec 1, 2026, 2:30 PM". */
export function formatDateTime(value: DateTime | null | undefined, locale: string): string {
  return value
    ? value
        .setZone('Europe/Berlin')
        .setLocale(locale)
        .toLocaleString({ dateStyle: 'medium', timeStyle: 'short' })
    : ''
}
