import CarrierConfigError from '#calls/carriers/carrier_config_error'
import { isInEea } from '#core/eea'
import type { NonCarrierSubProcessor, TransferMechanism } from '#calls/carriers/types'

/** The mail settings from the environment (start/env.ts; README "Settings"). */
export interface MailProviderSettings {
  mailer: 'file' | 'smtp' | undefined
  name?: string
  /** Where the company sits (ISO 3166 alpha-2). */
  country?: string
  /** "Street 1, 12345 City" */
  address?: string
  /** Where the mail servers run; defaults to the company's country. */
  processingCountry?: string
  dpaUrl?: string
  since?: string
  confirmed?: boolean
  /** The SCCs' reference, needed when the company or its servers are outside the EU/EEA. */
  sccReference?: string
}

function postalAddress(address: string, country: string) {
  const comma = address.lastIndexOf(',')
  const street = comma >= 0 ? address.slice(0, comma).trim() : ''
  const rest = comma >= 0 ? address.slice(comma + 1).trim() : address.trim()
  const [postalCode = '', ...city] = rest.split(/\s+/)
  return { street, postalCode, city: city.join(' '), country }
}

/**
 * With MAIL_MAILER=smtp every mail (invitations, login links, notices, invoices) goes through the
 * SMTP provider, who is then a sub-processor and listed on the public pages like the carriers
 * (config/carriers.ts adds it to nonCarrierSubProcessors, so the same validation applies: SCCs for
 * a company outside the EU/EEA, confirmed metadata in production). Null with the file mailer.
 */
export function mailProviderSubProcessor(
  settings: MailProviderSettings
): NonCarrierSubProcessor | null {
  if (settings.mailer !== 'smtp') return null
  for (const [value, variable] of [
    [settings.name, 'MAIL_PROVIDER_NAME'],
    [settings.country, 'MAIL_PROVIDER_COUNTRY'],
    [settings.address, 'MAIL_PROVIDER_ADDRESS'],
    [settings.dpaUrl, 'MAIL_PROVIDER_DPA_URL'],
  ] as const) {
    if (!value?.trim()) {
      throw new CarrierConfigError(
        'mail',
        variable,
        'MAIL_MAILER=smtp sends every mail through a sub-processor that the public pages must name: set MAIL_PROVIDER_NAME, MAIL_PROVIDER_COUNTRY, MAIL_PROVIDER_ADDRESS and MAIL_PROVIDER_DPA_URL'
      )
    }
  }
  const country = settings.country!.trim().toUpperCase()
  const processingCountry = (settings.processingCountry?.trim() || country).toUpperCase()
  const location = { country: processingCountry, dataCentre: `Mail servers (${processingCountry})` }
  const transfers: TransferMechanism[] = settings.sccReference
    ? [...new Set([country, processingCountry])]
        .filter((entry) => !isInEea(entry))
        .map((entry) => ({
          country: entry,
          mechanism: 'scc' as const,
          module: 3 as const,
          reference: settings.sccReference!,
        }))
    : []
  return {
    key: 'mail',
    service: { de: 'E-Mail-Versand (SMTP)', en: 'E-mail delivery (SMTP)' },
    legalEntity: {
      name: settings.name!.trim(),
      address: postalAddress(settings.address!, country),
    },
    entityCountry: country,
    processing: { signalling: [location], media: [location], metadata: [location] },
    purpose: {
      de: 'Versand der E-Mails von FluffyCall (Einladungen, Anmelde-Links, Hinweise, Rechnungen)',
      en: 'Sending FluffyCall’s e-mails (invitations, login links, notices, invoices)',
    },
    dataCategories: ['account_data', 'email_content'],
    transfers,
    since: settings.since || '2025-01-01',
    dpaUrl: settings.dpaUrl!.trim(),
    confirmed: settings.confirmed === true,
  }
}
