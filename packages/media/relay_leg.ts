import type { PacketKind } from '#media/rtp_header'
import type { MediaLeg } from '#media/types'

/**
 * What the bridge and the echo need from a leg beyond the public MediaLeg contract: the packet
 * path. Both leg kinds implement it; nothing outside packages/media sees it.
 */

/** Takes a leg's inbound plain RTP; `packet` may be modified in place and sent on. */
export type PacketReceiver = (
  packet: Buffer,
  length: number,
  payloadOffset: number,
  kind: PacketKind
) => void

export interface RelayLeg extends MediaLeg {
  /** The one consumer of this leg's inbound packets (a bridge or an echo); null detaches. */
  setReceiver(receiver: PacketReceiver | null): void
  /**
   * Sends a packet received on another leg to this leg's peer, rewriting payload type, SSRC,
   * sequence number and timestamp in place to this leg's own. False when it may not be sent
   * (not negotiated, our direction excludes sending, no DTMF negotiated, closed).
   */
  sendRelayed(packet: Buffer, length: number, payloadOffset: number, kind: PacketKind): boolean
  /** The next relayed packet comes from a new source: continue our sequence and timestamps. */
  restartOutboundSource(): void
  /** True while the peer is expected to send us media (negotiated, not held, not closed). */
  readonly expectsMedia: boolean
  /** The peer put the call on hold (a=sendonly or a=inactive, or c=0.0.0.0, in its SDP). */
  readonly peerHolds: boolean
  readonly closed: boolean
  onClose(listener: () => void): void
  /** The leg's id in the C++ packet path (native_packet_path.ts); 0 while RTP runs in TypeScript. */
  readonly nativeLeg: number
  /** Packets the C++ path received on this leg and sent on through its link (0 without it). */
  readonly nativeRelayed: number
}

export function isRelayLeg(leg: MediaLeg): leg is RelayLeg {
  return typeof (leg as RelayLeg).sendRelayed === 'function'
}

export function asRelayLeg(leg: MediaLeg): RelayLeg {
  if (!isRelayLeg(leg)) throw new TypeError('This media leg was not created by the media engine')
  return leg
}
