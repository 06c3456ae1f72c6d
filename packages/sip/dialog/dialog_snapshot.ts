import NameAddress from '#sip/message/name_address'
import SipUri from '#sip/message/sip_uri'
import type SipDialog from '#sip/dialog/sip_dialog'
import type { SendRequestOptions } from '#sip/ua/sip_user_agent_core'

/**
 * What a confirmed dialog needs to be ended by another process (RFC 3261 12.2.1.1): plain data, so
 * the owner can store it (crash recovery) and hand it back to `SipStack.endDialog` later. The next
 * hop is where the first Route or the remote target points; streams are not kept (a crashed
 * node's connections are gone), so TCP and TLS hops are reached anew.
 */
export interface DialogSnapshot {
  callId: string
  localTag: string
  remoteTag: string
  /** Our From (name-addr, as sent). */
  localUri: string
  /** The peer's To (name-addr, without tag). */
  remoteUri: string
  remoteTarget: string
  /** The route set, in order, each a name-addr. */
  routeSet: string[]
  /** The CSeq of our last request in the dialog. */
  localSeq: number
  protocol: 'udp' | 'tcp' | 'tls'
  host: string
  port: number
}

/**
 * Can another process reach this dialog's peer from a snapshot? Not when the next hop is a
 * WebSocket (a browser connected to this node directly): only its socket leads there, and that
 * socket goes with the process. A browser behind a SIP front is reached through the front's
 * Record-Route (the route set's first hop), which is no WebSocket.
 */
export function snapshotReachable(dialog: SipDialog): boolean {
  const first = dialog.routeSet[0]?.uri
  const next = first instanceof SipUri ? first : dialog.remoteTarget
  const transport = next.transport?.toLowerCase()
  return transport !== 'ws' && transport !== 'wss'
}

/** The snapshot of a dialog as it is now. */
export function snapshotOf(dialog: SipDialog): DialogSnapshot {
  const first = dialog.routeSet[0]?.uri
  const target = first instanceof SipUri ? first : dialog.remoteTarget
  const transport = target.transport?.toLowerCase() ?? 'udp'
  const protocol = transport === 'tls' || transport === 'tcp' ? transport : 'udp'
  return {
    callId: dialog.callId,
    localTag: dialog.localTag,
    remoteTag: dialog.remoteTag,
    localUri: dialog.localUri.toString(),
    remoteUri: dialog.remoteUri.toString(),
    remoteTarget: dialog.remoteTarget.toString(),
    routeSet: dialog.routeSet.map((route) => route.toString()),
    localSeq: dialog.localSequence ?? 1,
    protocol,
    host: target.host,
    port: target.port ?? (protocol === 'tls' ? 5061 : 5060),
  }
}

/** The BYE that ends a stored dialog: the next CSeq, its tags, its route set (RFC 3261 15.1.1). */
export function byeFor(snapshot: DialogSnapshot): SendRequestOptions {
  return {
    method: 'BYE',
    uri: SipUri.parse(snapshot.remoteTarget),
    from: NameAddress.parse(snapshot.localUri),
    fromTag: snapshot.localTag,
    to: NameAddress.parse(snapshot.remoteUri).withTag(snapshot.remoteTag),
    callId: snapshot.callId,
    cseq: snapshot.localSeq + 1,
    destination: { protocol: snapshot.protocol, host: snapshot.host, port: snapshot.port },
    headers: snapshot.routeSet.map((route) => ['Route', route] as [string, string]),
  }
}
