import vine, { errors } from '@vinejs/vine'
import CarrierConfigError from '#calls/carriers/carrier_config_error'
import { SourceList } from '#sip'
import { countriesOutsideEea, isInEea } from '#calls/carriers/eea_countries'
import {
  CODECS,
  DATA_CATEGORIES,
  NUMBER_FORMATS,
  SIP_TRANSPORTS,
  type CarrierPlugin,
  type NonCarrierSubProcessor,
  type SubProcessorMetadata,
} from '#calls/carriers/types'

const countryCode = () => vine.string().regex(/^[A-Z]{2}$/)
const isoDate = () => vine.string().regex(/^\d{4}-\d{2}-\d{2}$/)
const text = () => vine.string().trim().minLength(1)
const host = () => vine.string().regex(/^[A-Za-z0-9.:-]+$/)

const location = vine.object({ country: countryCode(), dataCentre: text() })

const subProcessorSchema = vine.object({
  legalEntity: vine.object({
    name: text(),
    address: vine.object({
      street: text(),
      postalCode: text(),
      city: text(),
      country: countryCode(),
    }),
  }),
  entityCountry: countryCode(),
  processing: vine.object({
    signalling: vine.array(location).minLength(1),
    media: vine.array(location).minLength(1),
    metadata: vine.array(location).minLength(1),
  }),
  purpose: vine.object({ de: text(), en: text() }),
  dataCategories: vine.array(vine.enum(DATA_CATEGORIES)).minLength(1),
  transfers: vine.array(
    vine.object({
      country: countryCode(),
      mechanism: vine.enum(['adequacy', 'scc'] as const),
      module: vine.number().in([1, 2, 3, 4]).optional().requiredWhen('mechanism', '=', 'scc'),
      reference: text(),
    })
  ),
  since: isoDate(),
  dpaUrl: vine.string().url({ require_protocol: true, protocols: ['https'] }),
  confirmed: vine.boolean({ strict: true }),
})

const profileSchema = vine.object({
  hosts: vine.array(host()).minLength(1),
  signallingSources: vine.array(vine.string().regex(/^[0-9A-Fa-f.:]+(\/\d{1,3})?$/)).optional(),
  port: vine.number().withoutDecimals().range([1, 65535]),
  transport: vine.enum(SIP_TRANSPORTS),
  auth: vine.object({
    method: vine.enum(['registration', 'ip'] as const),
    // Credentials may come from the encrypted store instead: completeness is checked separately.
    username: vine.string().optional(),
    password: vine.string().optional(),
    realm: text().optional(),
    registrar: host().optional(),
    expiresSeconds: vine
      .number()
      .range([60, 86400])
      .optional()
      .requiredWhen('method', '=', 'registration'),
    sourceAddresses: vine.array(host()).minLength(1).optional().requiredWhen('method', '=', 'ip'),
  }),
  codecs: vine.array(vine.enum(CODECS)).minLength(1),
  srtp: vine.enum(['none', 'sdes'] as const),
  numberFormat: vine.enum(NUMBER_FORMATS),
  nationalCountryCode: vine
    .string()
    .regex(/^\d{1,3}$/)
    .optional()
    .requiredWhen('numberFormat', '=', 'national'),
  nationalTrunkPrefix: vine
    .string()
    .regex(/^\d{0,2}$/)
    .optional(),
  callerId: vine.object({
    identity: vine.enum(['from', 'pai'] as const),
    clir: vine.enum(['privacy_header', 'anonymous_from'] as const),
    forwarding: vine
      .object({
        header: vine.enum(['diversion', 'history_info', 'none'] as const),
        presentOriginalCaller: vine.boolean({ strict: true }),
      })
      .optional(),
  }),
  emergency: vine.object({
    location: vine.enum(['pidf_lo', 'carrier_registered'] as const),
    numbers: vine.array(vine.string().regex(/^\d{3}$/)).minLength(1),
  }),
  healthCheck: vine.object({
    enabled: vine.boolean({ strict: true }),
    intervalSeconds: vine.number().range([5, 3600]),
    timeoutMs: vine.number().range([100, 30000]),
    failuresBeforeDown: vine.number().range([1, 20]),
  }),
})

const pluginSchema = vine.create(
  vine.object({
    profile: profileSchema,
    subProcessor: subProcessorSchema.nullable(),
  })
)

const subProcessorValidator = vine.create(subProcessorSchema)

/** Turns the first VineJS error into a message that names the carrier and the field. */
async function validateWith(name: string, prefix: string, validate: () => Promise<unknown>) {
  try {
    await validate()
  } catch (error) {
    if (error instanceof errors.E_VALIDATION_ERROR) {
      const first = (error.messages as Array<{ field: string; message: string }>)[0]
      throw new CarrierConfigError(name, `${prefix}${first.field}`, first.message)
    }
    throw error
  }
}

/**
 * Rules a schema cannot express about transfers outside the EU/EEA:
 * - every country outside it where the sub-processor processes needs a declared mechanism
 *   (adequacy decision or SCCs);
 * - a company that sits outside the EU/EEA needs SCCs for its country even when it processes
 *   only inside: its staff's remote access from there is a transfer. An adequacy decision
 *   (Art. 45 GDPR) would suffice legally, but our privacy statement promises SCCs (Art. 46), so
 *   requiring them is a product rule, and the message says so.
 */
function checkTransfers(name: string, prefix: string, metadata: SubProcessorMetadata) {
  const declared = new Set(metadata.transfers.map((transfer) => transfer.country.toUpperCase()))
  for (const country of countriesOutsideEea(metadata)) {
    if (!declared.has(country)) {
      throw new CarrierConfigError(
        name,
        `${prefix}transfers`,
        `processes in ${country} (outside the EU/EEA) without a declared transfer mechanism (adequacy decision or SCCs)`
      )
    }
  }
  for (const country of new Set(
    [metadata.entityCountry, metadata.legalEntity.address.country].map((entry) =>
      entry.toUpperCase()
    )
  )) {
    if (isInEea(country)) continue
    const sccs = metadata.transfers.some(
      (transfer) => transfer.country.toUpperCase() === country && transfer.mechanism === 'scc'
    )
    if (!sccs) {
      throw new CarrierConfigError(
        name,
        `${prefix}transfers`,
        `the company sits in ${country} (outside the EU/EEA): access from there is a transfer even when it processes inside the EU/EEA, so SCCs (Art. 46 GDPR) must be declared for ${country}. An adequacy decision (Art. 45) would suffice legally, but our privacy statement promises SCCs: this is a product rule`
      )
    }
  }
}

/** In production only confirmed legal metadata may go live (an operator checked it against the signed contract). */
function checkConfirmed(name: string, prefix: string, metadata: SubProcessorMetadata) {
  if (!metadata.confirmed) {
    throw new CarrierConfigError(
      name,
      `${prefix}confirmed`,
      'the sub-processor’s legal metadata is unconfirmed: in production it cannot be enabled until an operator has checked it against the signed contract and set confirmed: true'
    )
  }
}

export interface ValidationContext {
  production: boolean
  /** Enabled carriers must have their digest credentials (config/env or the encrypted store). */
  requireCredentials: boolean
}

export async function validateCarrierPlugin(
  name: string,
  plugin: CarrierPlugin,
  context: ValidationContext
) {
  await validateWith(name, '', () =>
    pluginSchema.validate({ profile: plugin.profile, subProcessor: plugin.subProcessor })
  )
  const { profile, subProcessor } = plugin
  if (profile.srtp === 'sdes' && profile.transport !== 'tls') {
    throw new CarrierConfigError(
      name,
      'profile.srtp',
      'SDES-SRTP puts media keys in the SDP and is allowed only with transport "tls"'
    )
  }
  if (plugin.developmentOnly && context.production) {
    throw new CarrierConfigError(
      name,
      'kind',
      `the "${plugin.kind}" carrier is for development and tests and is refused in production`
    )
  }
  if (subProcessor === null && !plugin.developmentOnly) {
    throw new CarrierConfigError(
      name,
      'subProcessor',
      'a carrier that reaches the public network must declare its sub-processor metadata'
    )
  }
  if (
    plugin.developmentOnly &&
    !profile.hosts.every((entry) => entry === '127.0.0.1' || entry === '::1')
  ) {
    throw new CarrierConfigError(
      name,
      'profile.hosts',
      'a development carrier may only point at loopback'
    )
  }
  if (
    plugin.developmentOnly &&
    !(profile.signallingSources ?? []).every((entry) => entry.startsWith('127.') || entry === '::1')
  ) {
    throw new CarrierConfigError(
      name,
      'profile.signallingSources',
      'a development carrier may only signal from loopback'
    )
  }
  for (const [index, entry] of (profile.signallingSources ?? []).entries()) {
    try {
      SourceList.validate(entry)
    } catch (error) {
      throw new CarrierConfigError(
        name,
        `profile.signallingSources.${index}`,
        (error as Error).message
      )
    }
  }
  if (subProcessor) checkTransfers(name, 'subProcessor.', subProcessor)
  // A disabled carrier may wait for its confirmation; an enabled one routes calls
  if (subProcessor && context.production && context.requireCredentials)
    checkConfirmed(name, 'subProcessor.', subProcessor)
  if (context.requireCredentials && profile.auth.method === 'registration') {
    for (const field of ['username', 'password'] as const) {
      if (!profile.auth[field]) {
        throw new CarrierConfigError(
          name,
          `profile.auth.${field}`,
          'is missing: set it in the environment or store it in the carrier admin'
        )
      }
    }
  }
}

export async function validateNonCarrierSubProcessor(
  entry: NonCarrierSubProcessor,
  context: { production: boolean } = { production: false }
) {
  const name = entry.key || '(non-carrier sub-processor without key)'
  await validateWith(name, '', () => subProcessorValidator.validate(entry))
  checkTransfers(name, '', entry)
  if (context.production) checkConfirmed(name, '', entry)
}

/** Activation of a carrier (lifecycle): in production only with confirmed legal metadata. */
export function mayActivate(plugin: CarrierPlugin, production: boolean) {
  return !production || plugin.developmentOnly || plugin.subProcessor?.confirmed === true
}
