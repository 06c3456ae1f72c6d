/**
 * The few RTP header facts the relay needs (RFC 3550 §5.1), read straight from the datagram so
 * the packet path allocates no header objects.
 */

export const RTP_MIN_HEADER = 12

/** What a packet carries for the bridge: audio, RFC 4733 events, or something we drop. */
export const enum PacketKind {
  Audio = 0,
  Dtmf = 1,
}

/**
 * Offset of the payload, or -1 when the bytes are not an RTP packet we can relay (wrong
 * version, RTCP, header longer than the datagram).
 */
export function rtpPayloadOffset(buf: Buffer, length: number): number {
  if (length < RTP_MIN_HEADER) return -1
  const first = buf[0]
  if (first >> 6 !== 2) return -1
  // RTCP shares the port with rtcp-mux (RFC 5761): payload types 64-95 with the marker bit
  const secondByte = buf[1]
  if (secondByte >= 192 && secondByte <= 223) return -1
  let offset = RTP_MIN_HEADER + (first & 0x0f) * 4
  if (first & 0x10) {
    if (offset + 4 > length) return -1
    offset += 4 + buf.readUInt16BE(offset + 2) * 4
  }
  return offset <= length ? offset : -1
}

/** True for the first byte of an RTP or RTCP packet (RFC 7983 demultiplexing: 128-191). */
export function isRtpOrRtcp(buf: Buffer): boolean {
  return buf.length >= RTP_MIN_HEADER && buf[0] >= 128 && buf[0] <= 191
}

/** True for RTCP under rtcp-mux (second byte 192-223, RFC 5761 §4). */
export function isRtcp(buf: Buffer): boolean {
  return buf[1] >= 192 && buf[1] <= 223
}
