import { randomBytes } from 'node:crypto'
import { NameAddress, SipUri, type SessionDescription } from '#sip'
import type { TrunkProfile } from '#calls/carriers/types'
import { sdpOf } from '#media'

/** Who calls, as the server decided it (never what the browser claimed). */
export interface CallingParty {
  /** E.164 with "+", or null when the company has no number to present. */
  number: string | null
  /** CLIR: withhold the number from the callee. Ignored for emergency calls. */
  withheld: boolean
  emergency: boolean
  /** The user's registered emergency address, for carriers that take PIDF-LO. */
  location: EmergencyLocation | null
  /** The call is forwarded out: who forwarded it, why, and who originally called. */
  forwarding?: Forwarded
}

/** A forwarded call as the carrier learns of it (Diversion or History-Info, as its profile asks). */
export interface Forwarded {
  /** The number the call was forwarded from (E.164 with "+"). */
  diverter: string
  reason: 'always' | 'busy' | 'no_answer' | 'unreachable'
  /** The original caller (E.164 with "+"), null when withheld or unknown. */
  originalCaller: string | null
}

/** RFC 5806 reason values and the RFC 4458 cause codes of History-Info, per forwarding condition. */
const DIVERSION_REASONS: Record<Forwarded['reason'], { reason: string; cause: number }> = {
  always: { reason: 'unconditional', cause: 302 },
  busy: { reason: 'user-busy', cause: 486 },
  no_answer: { reason: 'no-answer', cause: 408 },
  unreachable: { reason: 'unavailable', cause: 503 },
}

export interface EmergencyLocation {
  street: string
  postalCode: string
  city: string
  country: string
}

export interface CarrierInviteParts {
  uri: SipUri
  from: NameAddress
  to: NameAddress
  headers: Array<[string, string]>
  /** The SDP offer, or a multipart body with SDP and PIDF-LO for an emergency call. */
  description: SessionDescription
}

/**
 * The destination as the carrier wants it in the Request-URI and To. `destination` is E.164
 * digits without "+" or an emergency short code, which stays as dialled.
 */
export function carrierNumber(profile: TrunkProfile, destination: string, emergency: boolean) {
  if (emergency) return destination
  switch (profile.numberFormat) {
    case 'e164_plus':
      return `+${destination}`
    case 'e164':
      return destination
    case 'national': {
      const code = profile.nationalCountryCode ?? ''
      if (code && destination.startsWith(code)) {
        return `${profile.nationalTrunkPrefix ?? '0'}${destination.slice(code.length)}`
      }
      return `00${destination}`
    }
  }
}

const ANONYMOUS = new NameAddress(
  new SipUri({ user: 'anonymous', host: 'anonymous.invalid' }),
  'Anonymous'
)

/**
 * Builds the INVITE towards one carrier: number format, caller ID and CLIR as the profile
 * signals them (From or P-Asserted-Identity, Privacy: id or an anonymous From), and for
 * emergency calls the caller's number always (CLIR does not apply) and the location by PIDF-LO
 * (RFC 6442) when the carrier takes it.
 */
export function carrierInvite(
  profile: TrunkProfile,
  target: { host: string; port: number },
  destination: string,
  party: CallingParty,
  offer: SessionDescription,
  ourHost: string
): CarrierInviteParts {
  const number = carrierNumber(profile, destination, party.emergency)
  const transport = profile.transport === 'udp' ? undefined : profile.transport
  const params = new Map<string, string | null>(transport ? [['transport', transport]] : [])
  const uri = new SipUri({ user: number, host: target.host, port: target.port, params })
  const to = new NameAddress(new SipUri({ user: number, host: target.host }))
  const username = profile.auth.method === 'registration' ? profile.auth.username : undefined
  const forwarding = profile.callerId.forwarding ?? {
    header: 'diversion',
    presentOriginalCaller: false,
  }
  // A forwarded call shows the company's number unless the carrier lets us present the caller's.
  const shown =
    party.forwarding?.originalCaller && forwarding.presentOriginalCaller
      ? party.forwarding.originalCaller
      : party.number
  const identity = shown ? new NameAddress(new SipUri({ user: shown, host: ourHost })) : undefined
  const withheld = party.withheld && !party.emergency
  const headers: Array<[string, string]> = []
  if (party.forwarding)
    headers.push(
      ...diversionHeaders(forwarding.header, party.forwarding, number, target.host, ourHost)
    )

  let from: NameAddress
  if (!identity) {
    from = ANONYMOUS
  } else if (withheld) {
    from = ANONYMOUS
    if (profile.callerId.clir === 'privacy_header') {
      headers.push(['P-Asserted-Identity', identity.toString()], ['Privacy', 'id'])
    }
  } else if (profile.callerId.identity === 'pai') {
    // The account user goes into From where the carrier authenticates by it; PAI carries the number.
    from = username ? new NameAddress(new SipUri({ user: username, host: target.host })) : identity
    headers.push(['P-Asserted-Identity', identity.toString()])
  } else {
    from = identity
  }

  let description = offer
  if (party.emergency && profile.emergency.location === 'pidf_lo' && party.location) {
    const cid = `${randomBytes(8).toString('hex')}@${ourHost}`
    headers.push(['Geolocation', `<cid:${cid}>`], ['Geolocation-Routing', 'yes'])
    description = withLocation(offer, cid, party)
  }
  return { uri, from, to, headers, description }
}

/** Diversion (RFC 5806) or History-Info (RFC 7044 with RFC 4458 cause) for a forwarded call. */
function diversionHeaders(
  header: 'diversion' | 'history_info' | 'none',
  forwarded: Forwarded,
  number: string,
  carrierHost: string,
  ourHost: string
): Array<[string, string]> {
  const diverter = new SipUri({ user: forwarded.diverter, host: ourHost })
  const { reason, cause } = DIVERSION_REASONS[forwarded.reason]
  if (header === 'diversion') return [['Diversion', `<${diverter}>;reason=${reason};counter=1`]]
  if (header === 'history_info') {
    const target = new SipUri({
      user: number,
      host: carrierHost,
      params: new Map([['cause', String(cause)]]),
    })
    return [['History-Info', `<${diverter}>;index=1, <${target}>;index=1.1;mp=1`]]
  }
  return []
}

function xml(text: string) {
  return text.replace(/[<>&"']/g, (char) => `&#${char.charCodeAt(0)};`)
}

/** multipart/mixed with the SDP first and a PIDF-LO civic address (RFC 4119, RFC 5139). */
function withLocation(
  offer: SessionDescription,
  cid: string,
  party: CallingParty
): SessionDescription {
  const location = party.location!
  const boundary = `fc${randomBytes(8).toString('hex')}`
  const entity = party.number ? `sip:${party.number}` : 'sip:anonymous@anonymous.invalid'
  const pidf = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10" xmlns:ca="urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr" entity="${xml(entity)}">`,
    '<tuple id="location"><status><gp:geopriv><gp:location-info><ca:civicAddress>',
    `<ca:country>${xml(location.country)}</ca:country>`,
    `<ca:A3>${xml(location.city)}</ca:A3>`,
    `<ca:RD>${xml(location.street)}</ca:RD>`,
    `<ca:PC>${xml(location.postalCode)}</ca:PC>`,
    '</ca:civicAddress></gp:location-info><gp:usage-rules/></gp:geopriv></status></tuple></presence>',
  ].join('\r\n')
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Type: ${offer.contentType}\r\n\r\n`),
    offer.body,
    Buffer.from(
      `\r\n--${boundary}\r\nContent-Type: application/pidf+xml\r\nContent-ID: <${cid}>\r\n\r\n${pidf}\r\n--${boundary}--\r\n`
    ),
  ])
  return { body, contentType: `multipart/mixed;boundary=${boundary}` }
}

export { sdpOf }

export function sdp(text: string): SessionDescription {
  return { body: Buffer.from(text), contentType: 'application/sdp' }
}
