/** EU member states plus Iceland, Liechtenstein and Norway (ISO 3166 alpha-2): carriers' transfers and SEPA's BIC rule. */
export const EEA_COUNTRIES: ReadonlySet<string> = new Set([
  'AT',
  'BE',
  'BG',
  'HR',
  'CY',
  'CZ',
  'DK',
  'EE',
  'FI',
  'FR',
  'DE',
  'GR',
  'HU',
  'IE',
  'IT',
  'LV',
  'LT',
  'LU',
  'MT',
  'NL',
  'PL',
  'PT',
  'RO',
  'SK',
  'SI',
  'ES',
  'SE',
  'IS',
  'LI',
  'NO',
])

export function isInEea(country: string) {
  return EEA_COUNTRIES.has(country.toUpperCase())
}
