import NameAddress from '../message/name_address.js'
import SipUri from '../message/sip_uri.js'
import { reasonPhraseFor } from '../message/reason_phrases.js'
import type SipRequest from '../message/sip_request.js'
import type SipDialog from '../dialog/sip_dialog.js'

/** The dialog an attended transfer replaces (RFC 3891 Replaces: call-id;to-tag=…;from-tag=…). */
export interface Replaces {
  callId: string
  toTag: string
  fromTag: string
  earlyOnly: boolean
}

/** A REFER as the application sees it (RFC 3515): where to, who refers, what it replaces. */
export interface ReferRequest {
  target: SipUri
  /** Referred-By (RFC 3892) as sent, when sent. */
  referredBy: NameAddress | null
  /** Attended transfer: the Refer-To URI carried a Replaces header (RFC 3891). */
  replaces: Replaces | null
}

/** Parses a Replaces value; null when the call-id or either tag is missing. */
export function parseReplaces(value: string): Replaces | null {
  const [callId, ...params] = value.split(';').map((part) => part.trim())
  if (!callId) return null
  const named = new Map<string, string>()
  for (const param of params) {
    const [name, ...rest] = param.split('=')
    named.set(name.trim().toLowerCase(), rest.join('=').trim())
  }
  const toTag = named.get('to-tag')
  const fromTag = named.get('from-tag')
  if (!toTag || !fromTag) return null
  return { callId, toTag, fromTag, earlyOnly: named.has('early-only') }
}

/**
 * The REFER's Refer-To (exactly one, a SIP or SIPS URI), Referred-By and an embedded Replaces;
 * null when Refer-To is missing, repeated or no SIP URI (the caller answers 400).
 */
export function parseRefer(request: SipRequest): ReferRequest | null {
  const referTo = request.headers.getAll('refer-to')
  if (referTo.length !== 1) return null
  let address: NameAddress
  try {
    address = NameAddress.parse(referTo[0])
  } catch {
    return null
  }
  if (!(address.uri instanceof SipUri)) return null
  let referredBy: NameAddress | null = null
  const by = request.headers.get('referred-by')
  if (by) {
    try {
      referredBy = NameAddress.parse(by)
    } catch {
      referredBy = null
    }
  }
  const embedded = [...address.uri.headers].find(([name]) => name.toLowerCase() === 'replaces')
  const replaces = embedded ? parseReplaces(decodeURIComponent(embedded[1])) : null
  if (embedded && !replaces) return null
  const target = address.uri.with({ headers: new Map() })
  return { target, referredBy, replaces }
}

/**
 * Tells the referrer how the referred call goes (RFC 3515 2.4.4): a NOTIFY in the REFER's dialog
 * with Event: refer and the status line as message/sipfrag. A final status ends the implicit
 * subscription. A referrer that already hung up is skipped.
 */
export function notifyReferProgress(dialog: SipDialog, status: number, reason?: string) {
  const final = status >= 200
  try {
    dialog.request('NOTIFY', {
      headers: [
        ['Event', 'refer'],
        ['Subscription-State', final ? 'terminated;reason=noresource' : 'active;expires=60'],
      ],
      description: {
        body: Buffer.from(`SIP/2.0 ${status} ${reason ?? reasonPhraseFor(status)}\r\n`),
        contentType: 'message/sipfrag;version=2.0',
      },
    })
  } catch {
    // The dialog ended meanwhile: nobody left to tell.
  }
}
