import SipHeaders from '#sip/message/sip_headers'
import SipRequest from '#sip/message/sip_request'
import ViaHeader from '#sip/message/via_header'
import type NameAddress from '#sip/message/name_address'
import type SipUri from '#sip/message/sip_uri'

export interface RequestParts {
  method: string
  uri: SipUri
  /** The top (and, for a user agent, only) Via value. */
  via: string
  from: NameAddress
  to: NameAddress
  callId: string
  cseq: number
  maxForwards?: number
  routes?: readonly NameAddress[]
  contact?: NameAddress
  headers?: Iterable<[string, string]>
  body?: Buffer
  contentType?: string
}

/** Builds a request with the header fields every UAC request carries (RFC 3261 8.1.1). */
export function createRequest(parts: RequestParts): SipRequest {
  const headers = new SipHeaders()
  headers.append('Via', parts.via)
  for (const route of parts.routes ?? []) {
    headers.append('Route', route.toString())
  }
  headers.append('Max-Forwards', String(parts.maxForwards ?? 70))
  headers.append('From', parts.from.toString())
  headers.append('To', parts.to.toString())
  headers.append('Call-ID', parts.callId)
  headers.append('CSeq', `${parts.cseq} ${parts.method}`)
  if (parts.contact) {
    headers.append('Contact', parts.contact.toString())
  }
  for (const [name, value] of parts.headers ?? []) {
    headers.append(name, value)
  }
  const body = parts.body ?? Buffer.alloc(0)
  if (body.length > 0) {
    headers.set('Content-Type', parts.contentType ?? 'application/sdp')
  }
  return new SipRequest(parts.method, parts.uri, headers, body)
}

/** The Via a user agent puts on a request it sends, asking for rport (RFC 3581). */
export function userAgentVia(
  transport: string,
  host: string,
  port: number | undefined,
  branch: string
): string {
  const params = new Map<string, string | null>([
    ['branch', branch],
    ['rport', null],
  ])
  return new ViaHeader({ transport, host, port, params }).toString()
}

/** A copy of `request` with a new top-Via branch and CSeq number, for a retried request. */
export function renumberRequest(request: SipRequest, branch: string, cseq: number): SipRequest {
  const copy = request.clone()
  const vias = copy.headers.getAll('via')
  vias[0] = copy.topVia.withParam('branch', branch).toString()
  copy.headers.set('Via', ...vias)
  copy.headers.set('CSeq', `${cseq} ${request.method}`)
  return copy
}
