/**
 * Format of the VAT identification number (USt-IdNr.) per EU member state, as published for VIES.
 * A format check only: whether the number exists is checked by staff at approval.
 */
const VAT_FORMATS: Record<string, RegExp> = {
  AT: /^ATU\d{8}$/,
  BE: /^BE[01]\d{9}$/,
  BG: /^BG\d{9,10}$/,
  CY: /^CY\d{8}[A-Z]$/,
  CZ: /^CZ\d{8,10}$/,
  DE: /^DE\d{9}$/,
  DK: /^DK\d{8}$/,
  EE: /^EE\d{9}$/,
  EL: /^EL\d{9}$/,
  ES: /^ES[A-Z0-9]\d{7}[A-Z0-9]$/,
  FI: /^FI\d{8}$/,
  FR: /^FR[A-HJ-NP-Z0-9]{2}\d{9}$/,
  HR: /^HR\d{11}$/,
  HU: /^HU\d{8}$/,
  IE: /^IE(\d{7}[A-W][A-I]?|\d[A-Z+*]\d{5}[A-W])$/,
  IT: /^IT\d{11}$/,
  LT: /^LT(\d{9}|\d{12})$/,
  LU: /^LU\d{8}$/,
  LV: /^LV\d{11}$/,
  MT: /^MT\d{8}$/,
  NL: /^NL\d{9}B\d{2}$/,
  PL: /^PL\d{10}$/,
  PT: /^PT\d{9}$/,
  RO: /^RO\d{2,10}$/,
  SE: /^SE\d{12}$/,
  SI: /^SI\d{8}$/,
  SK: /^SK\d{10}$/,
}

/** ISO country code -> VAT prefix (Greece uses EL). */
export const EU_COUNTRIES = Object.keys(VAT_FORMATS).map((prefix) =>
  prefix === 'EL' ? 'GR' : prefix
)

export function normalizeVatId(value: string) {
  return value.replace(/[\s.\-]/g, '').toUpperCase()
}

export function isValidVatId(value: string, country: string) {
  const prefix = country === 'GR' ? 'EL' : country
  const format = VAT_FORMATS[prefix]
  return format ? format.test(normalizeVatId(value)) : false
}
