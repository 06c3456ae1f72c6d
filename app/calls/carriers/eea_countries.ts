import type { CountryCode, SubProcessorMetadata } from '#calls/carriers/types'
import { isInEea } from '#core/eea'

export { EEA_COUNTRIES, isInEea } from '#core/eea'

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
