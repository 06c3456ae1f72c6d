/**
 * The carrier plugin contract. A plugin in plugins/carriers/<name>/ imports only this file and
 * declares two things: how to reach the trunk (technical profile) and who processes what, where, on
 * which legal ground (sub-processor metadata). Both are validated at boot by the carrier provider.
 * SIP work (OPTIONS health checks, REGISTER towards the carrier, sending INVITEs) happens in the SIP
 * stack, which drives a plugin through `CarrierSignalling`; plugins never open sockets themselves.
 */

/** ISO 3166-1 alpha-2, upper case ("DE", "US"). */
export type CountryCode = string

/** A date without time, "YYYY-MM-DD". */
export type IsoDate = string

/** Text shown on the public pages, in each UI language. */
export interface LocalisedText {
  de: string
  en: string
}

/* ---------------------------------------------------------------- technical trunk profile */

export const SIP_TRANSPORTS = ['udp', 'tcp', 'tls'] as const
export type SipTransportName = (typeof SIP_TRANSPORTS)[number]

export const CODECS = ['PCMA', 'PCMU', 'telephone-event'] as const
export type Codec = (typeof CODECS)[number]

/** How the destination number is written in the Request-URI and To towards the carrier. */
export const NUMBER_FORMATS = ['e164_plus', 'e164', 'national'] as const
export type NumberFormat = (typeof NUMBER_FORMATS)[number]

/** The account registers (REGISTER with digest credentials) and authenticates its INVITEs. */
export interface RegistrationAuth {
  method: 'registration'
  username: string
  /** From the environment or the encrypted override in carrier_states; never logged or rendered. */
  password: string
  /** Digest realm, when the carrier does not announce a usable one. */
  realm?: string
  /** Registrar host when it differs from the first trunk host. */
  registrar?: string
  expiresSeconds: number
}

/** The carrier accepts our traffic by source address; nothing secret to hold. */
export interface IpAuth {
  method: 'ip'
  /** The public addresses our SBC sends from, as the carrier has them on its allow-list. */
  sourceAddresses: string[]
}

export type TrunkAuth = RegistrationAuth | IpAuth

/** Where the caller's number goes and how a withheld number (CLIR) is signalled. */
export interface CallerIdSignalling {
  /** Header carrying the caller's number: From, or P-Asserted-Identity (RFC 3325). */
  identity: 'from' | 'pai'
  /** CLIR: `Privacy: id` (RFC 3325) with the real number in PAI, or an anonymous From only. */
  clir: 'privacy_header' | 'anonymous_from'
  /**
   * A call forwarded out to this carrier (RFC 5806 Diversion, RFC 7044 History-Info, or neither):
   * how the diverting number is signalled, and whether the carrier lets us present the original
   * caller's number (many accept only numbers of the account; the company's number otherwise).
   * Diversion and the company's number when absent.
   */
  forwarding?: {
    header: 'diversion' | 'history_info' | 'none'
    presentOriginalCaller: boolean
  }
}

/** How an emergency caller's location reaches the PSAP. */
export interface EmergencySignalling {
  /**
   * `pidf_lo`: a Geolocation header with a PIDF-LO body (RFC 6442) from the user's registered
   * address; `carrier_registered`: the carrier holds the address registered for the calling number.
   */
  location: 'pidf_lo' | 'carrier_registered'
  /** Short codes the carrier takes as dialled (never rewritten to E.164). */
  numbers: string[]
}

/** SIP OPTIONS keep-alive towards the trunk; the SIP stack runs it. */
export interface HealthCheckOptions {
  enabled: boolean
  intervalSeconds: number
  timeoutMs: number
  /** Consecutive failures before the carrier counts as down (and is skipped by failover). */
  failuresBeforeDown: number
}

export interface TrunkProfile {
  hosts: string[]
  /**
   * Addresses or CIDRs the carrier sends SIP from, when they differ from what its host names
   * resolve to (trunks often signal from whole ranges). Calls from them are recognised as the
   * carrier's, and they get the carriers' flood budget instead of the one for unknown sources.
   */
  signallingSources?: string[]
  port: number
  transport: SipTransportName
  auth: TrunkAuth
  codecs: Codec[]
  /** SDES-SRTP (RFC 4568) puts media keys in the SDP: only acceptable over TLS. */
  srtp: 'none' | 'sdes'
  numberFormat: NumberFormat
  /** Needed for `national`: the country calling code of the trunk ("49") and its trunk prefix ("0"). */
  nationalCountryCode?: string
  nationalTrunkPrefix?: string
  callerId: CallerIdSignalling
  emergency: EmergencySignalling
  healthCheck: HealthCheckOptions
}

/* ---------------------------------------------------------------- sub-processor metadata */

export const DATA_CATEGORIES = [
  'phone_numbers',
  'call_metadata',
  'call_content_in_transit',
  'emergency_location',
  'ip_addresses',
  'account_data',
  'email_content',
] as const
export type DataCategory = (typeof DATA_CATEGORIES)[number]

export interface PostalAddress {
  street: string
  postalCode: string
  city: string
  country: CountryCode
}

export interface ProcessingLocation {
  country: CountryCode
  /** Data centre or site, e.g. "Düsseldorf (DE)" or "AWS us-east-1". */
  dataCentre: string
}

/** What is processed where; each list names every place that kind of data goes. */
export interface ProcessingLocations {
  signalling: ProcessingLocation[]
  media: ProcessingLocation[]
  metadata: ProcessingLocation[]
}

export interface AdequacyTransfer {
  country: CountryCode
  mechanism: 'adequacy'
  /** The Commission decision, e.g. "Durchführungsbeschluss (EU) 2023/1795". */
  reference: string
}

export interface SccTransfer {
  country: CountryCode
  mechanism: 'scc'
  /** Module of the 2021 SCCs (Durchführungsbeschluss (EU) 2021/914): 1 C2C, 2 C2P, 3 P2P, 4 P2C. */
  module: 1 | 2 | 3 | 4
  /** The signed document, e.g. "DPA v3, Annex II, signed 2024-05-01". */
  reference: string
}

export type TransferMechanism = AdequacyTransfer | SccTransfer

export interface SubProcessorMetadata {
  legalEntity: {
    name: string
    address: PostalAddress
  }
  /** Country where the legal entity is established (may differ from where it processes). */
  entityCountry: CountryCode
  processing: ProcessingLocations
  purpose: LocalisedText
  dataCategories: DataCategory[]
  /** One entry per country outside the EU/EEA that appears in `processing` or is `entityCountry`. */
  transfers: TransferMechanism[]
  /** Since when it is (or will be, once announced) our sub-processor. */
  since: IsoDate
  dpaUrl: string
  /** False until an operator checked the metadata against the signed contract; shown as "unconfirmed". */
  confirmed: boolean
}

/** Hosting, email and the like: listed on the public pages beside the carriers. */
export interface NonCarrierSubProcessor extends SubProcessorMetadata {
  /** Stable key for feeds and JSON. */
  key: string
  service: LocalisedText
}

/* ---------------------------------------------------------------- the plugin */

/** Health as the SIP stack observed it; `unknown` until checks run. */
export interface CarrierHealth {
  options: 'unknown' | 'up' | 'down'
  registration: 'not_applicable' | 'unknown' | 'registered' | 'failed'
  checkedAt: Date | null
  /** OPTIONS rounds in a row without a usable answer (none, or 503). */
  consecutiveFailures?: number
  /** The status of the last OPTIONS answer, null when none came. */
  lastStatus?: number | null
  /** The status of the last REGISTER answer (200, 403 ...), null before the first. */
  registrationStatus?: number | null
  /** When the current registration runs out. */
  registeredUntil?: Date | null
}

/** Where a request to a carrier goes; the SIP stack resolves `host` (RFC 3263). */
export interface SignallingTarget {
  host: string
  port: number
  transport: SipTransportName
}

/** A REGISTER's outcome as the registration towards a carrier moves on (refreshes, retries). */
export interface RegistrationUpdate {
  state: 'registered' | 'failed'
  status: number
  expiresSeconds: number
}

/**
 * The seam the SIP stack implements to drive a plugin (health checks, registration). Plugins may
 * shape requests (extra headers) but never own sockets: the stack keeps one transport per peer.
 * register and unregister of one target take effect strictly in call order (a restarted monitor
 * relies on it: an old monitor's late unregister never removes the new registration).
 */
export interface CarrierSignalling {
  /**
   * One OPTIONS; resolves with the carrier's status (any status: 404 or 503 are answers too).
   * Rejects when no answer came within `timeoutMs` or the request could not be sent; the error's
   * `code` is 'timeout', 'transport' or 'unresolved' (DNS gave no address).
   */
  sendOptions(
    target: SignallingTarget,
    options?: { timeoutMs?: number }
  ): Promise<{ status: number }>
  /**
   * Starts keeping a registration at the carrier (refreshed before expiry, retried with backoff)
   * and resolves with the first outcome; `onUpdate` hears every later one.
   */
  register(
    target: SignallingTarget,
    auth: RegistrationAuth,
    onUpdate?: (update: RegistrationUpdate) => void
  ): Promise<{ status: number; expiresSeconds: number }>
  /** Stops the registration and removes the binding (Expires: 0). */
  unregister(target: SignallingTarget): Promise<void>
  /** What the stack observed for this carrier (OPTIONS and registration), once it monitors it. */
  health?(): CarrierHealth
}

export interface CarrierPlugin {
  /** The plugin kind ("generic", "local", ...), not the configured carrier name. */
  readonly kind: string
  readonly profile: TrunkProfile
  /** Null only for plugins that process nothing outside our own system (the loopback carrier). */
  readonly subProcessor: SubProcessorMetadata | null
  /** Development and tests only: refused at boot in production and never published. */
  readonly developmentOnly: boolean
  /** Attaches the SIP stack once it runs; optional until the stack exists. */
  attach?(signalling: CarrierSignalling): Promise<void>
  health(): CarrierHealth
  /** Ends registrations and timers. Called once on shutdown. */
  close(): Promise<void>
}

/** Per-carrier options every factory accepts beside the plugin's own. */
export interface CarrierEntryOptions {
  /** Shipped disabled: validated at boot, never routed over, never published. */
  enabled?: boolean
  /** Display name in the admin and on the public pages. */
  label?: string
}

/** Digest credentials an operator stored (encrypted) in the database; they win over config. */
export interface CredentialOverride {
  username?: string
  password?: string
}

/** What a factory in config/carriers.ts returns: the plugin is imported only when resolved. */
export interface CarrierFactory {
  kind: string
  options: CarrierEntryOptions
  resolve(credentials?: CredentialOverride): Promise<CarrierPlugin>
}

/** Health before the SIP stack checked anything (or while the carrier is not monitored). */
export function uncheckedHealth(profile: TrunkProfile): CarrierHealth {
  return {
    options: 'unknown',
    registration: profile.auth.method === 'registration' ? 'unknown' : 'not_applicable',
    checkedAt: null,
  }
}

/**
 * What every plugin does with the SIP stack's signalling: keep it, and report the health the
 * stack observed for this carrier. Plugins extend it and add their profile and metadata.
 */
export abstract class SignalledCarrierPlugin implements CarrierPlugin {
  abstract readonly kind: string
  abstract readonly profile: TrunkProfile
  abstract readonly subProcessor: SubProcessorMetadata | null
  abstract readonly developmentOnly: boolean
  #signalling: CarrierSignalling | undefined

  async attach(signalling: CarrierSignalling): Promise<void> {
    this.#signalling = signalling
  }

  health(): CarrierHealth {
    return this.#signalling?.health?.() ?? uncheckedHealth(this.profile)
  }

  /** The stack's health monitor ends the checks and the registration; the plugin lets go. */
  async close(): Promise<void> {
    this.#signalling = undefined
  }
}
