import type { CountryCode, SubProcessorMetadata } from '#calls/carriers/types'

/** EU member states plus Iceland, Liechtenstein and Norway: no transfer mechanism needed inside. */
export const EEA_COUNTRIES: ReadonlySet<CountryCode> = new Set([
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

export function isInEea(country: CountryCode) {
  return EEA_COUNTRIES.has(country.toUpperCase())
}

/** Every country where signalling, media or metadata of this sub-processor is processed. */
export function processingCountries(metadata: SubProcessorMetadata): CountryCode[] {
  const { signalling, media, metadata: records } = metadata.processing
  return [
    ...new Set(
      [...signalling, ...media, ...records].map((location) => location.country.toUpperCase())
    ),
  ]
}

/** Countries outside the EU/EEA where it processes; empty for an EU-only sub-processor. */
export function countriesOutsideEea(metadata: SubProcessorMetadata | null): CountryCode[] {
  return metadata ? processingCountries(metadata).filter((country) => !isInEea(country)) : []
}
