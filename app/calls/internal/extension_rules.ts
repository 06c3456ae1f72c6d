/**
 * What an internal extension may be: 2 to 4 digits, and nothing a caller could mean as a public
 * service number. Phones dial digit by digit or en bloc; an extension that begins like an
 * emergency or service number (110, 112, 115, 116xxx, 118xx) would be one key press away from it,
 * so every extension starting with one of those is refused, as is a leading 0 (the outside line
 * of most PBXs and the national prefix). Feature codes (*43, #31#) are never digits only.
 */
export type ExtensionProblem =
  | 'extension_format'
  | 'extension_emergency'
  | 'extension_service'
  | 'extension_leading_zero'
  | 'extension_taken'

const EMERGENCY_PREFIXES = ['110', '112']
/** 115 (public administration), 116xxx (harmonised services of social value), 118xx (directory enquiries). */
const SERVICE_PREFIXES = ['115', '116', '118']

/** An extension as typed ("23", " 0815 ") cleaned of blanks; the problem, or null when it may be used. */
export function extensionProblem(
  extension: string
): Exclude<ExtensionProblem, 'extension_taken'> | null {
  if (!/^\d{2,4}$/.test(extension)) return 'extension_format'
  if (EMERGENCY_PREFIXES.some((prefix) => extension.startsWith(prefix)))
    return 'extension_emergency'
  if (SERVICE_PREFIXES.some((prefix) => extension.startsWith(prefix))) return 'extension_service'
  if (extension.startsWith('0')) return 'extension_leading_zero'
  return null
}

/** Does a dialled string look like an extension (2-4 digits)? Everything else is a number or a code. */
export function isExtensionShaped(dialled: string) {
  return /^\d{2,4}$/.test(dialled)
}
