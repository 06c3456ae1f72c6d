/**
 * RTCP packets (RFC 3550 §6.4, §6.5, §6.6): encoding our compound reports (SR or RR, then SDES
 * with the CNAME, optionally BYE) and reading what a peer sends. Peer bytes are untrusted: this
 * is the one place they are parsed, with limits, and a malformed packet reads as null, never as
 * an exception.
 */

export const RTCP_SR = 200
export const RTCP_RR = 201
export const RTCP_SDES = 202
export const RTCP_BYE = 203

/** At most this many report blocks are read from one packet (RFC 3550 allows 31). */
const MAX_REPORT_BLOCKS = 31
/** A compound packet larger than this is not read (our MTU; RTCP is small). */
export const MAX_RTCP_BYTES = 1500
/** At most this many packets in one compound. */
const MAX_PACKETS = 16

/** One report block (RFC 3550 §6.4.1): what a receiver says about one source. */
export interface ReportBlock {
  ssrc: number
  /** Fraction lost since the previous report, 0-255 (of 256). */
  fractionLost: number
  /** Cumulative packets lost (24-bit signed). */
  cumulativeLost: number
  extendedHighestSeq: number
  /** Interarrival jitter in timestamp units. */
  jitter: number
  /** Middle 32 bits of the NTP timestamp of the last SR from that source (0: none yet). */
  lastSr: number
  /** Delay since that SR, in 1/65536 s. */
  delaySinceLastSr: number
}

export interface SenderInfo {
  /** NTP timestamp, seconds and fraction (64 bits as two 32-bit words). */
  ntpSeconds: number
  ntpFraction: number
  rtpTimestamp: number
  packetCount: number
  octetCount: number
}

export interface RtcpReport {
  type: typeof RTCP_SR | typeof RTCP_RR
  ssrc: number
  sender: SenderInfo | null
  blocks: ReportBlock[]
}

export interface ParsedRtcp {
  reports: RtcpReport[]
  /** CNAMEs from SDES chunks, by SSRC. */
  cnames: Map<number, string>
  /** SSRCs that said BYE. */
  byes: number[]
}

/** What we put in one compound packet. */
export interface CompoundInput {
  ssrc: number
  /** Present when we sent RTP since the last report: an SR, else an RR. */
  sender: SenderInfo | null
  blocks: ReportBlock[]
  cname: string
  bye?: boolean
}

const BLOCK_BYTES = 24

function writeBlock(out: Buffer, at: number, block: ReportBlock) {
  out.writeUInt32BE(block.ssrc >>> 0, at)
  out[at + 4] = Math.max(0, Math.min(255, block.fractionLost))
  // 24-bit signed, clamped (RFC 3550 §6.4.1)
  const lost = Math.max(-0x800000, Math.min(0x7fffff, block.cumulativeLost)) & 0xffffff
  out.writeUIntBE(lost, at + 5, 3)
  out.writeUInt32BE(block.extendedHighestSeq >>> 0, at + 8)
  out.writeUInt32BE(Math.max(0, Math.round(block.jitter)) >>> 0, at + 12)
  out.writeUInt32BE(block.lastSr >>> 0, at + 16)
  out.writeUInt32BE(block.delaySinceLastSr >>> 0, at + 20)
}

/** A compound RTCP packet: SR (or RR), SDES CNAME, and BYE when asked (RFC 3550 §6.1). */
export function encodeCompound(input: CompoundInput): Buffer {
  const blocks = input.blocks.slice(0, MAX_REPORT_BLOCKS)
  const reportLength = 8 + (input.sender ? 20 : 0) + blocks.length * BLOCK_BYTES
  const cname = Buffer.from(input.cname.slice(0, 255), 'utf8').subarray(0, 255)
  // SSRC + item (type, length, text) + at least one null, padded to 32 bits
  const chunkLength = Math.ceil((4 + 2 + cname.length + 1) / 4) * 4
  const sdesLength = 4 + chunkLength
  const byeLength = input.bye ? 8 : 0
  const out = Buffer.alloc(reportLength + sdesLength + byeLength)

  out[0] = 0x80 | blocks.length
  out[1] = input.sender ? RTCP_SR : RTCP_RR
  out.writeUInt16BE(reportLength / 4 - 1, 2)
  out.writeUInt32BE(input.ssrc >>> 0, 4)
  let at = 8
  if (input.sender) {
    out.writeUInt32BE(input.sender.ntpSeconds >>> 0, 8)
    out.writeUInt32BE(input.sender.ntpFraction >>> 0, 12)
    out.writeUInt32BE(input.sender.rtpTimestamp >>> 0, 16)
    out.writeUInt32BE(input.sender.packetCount >>> 0, 20)
    out.writeUInt32BE(input.sender.octetCount >>> 0, 24)
    at = 28
  }
  for (const block of blocks) {
    writeBlock(out, at, block)
    at += BLOCK_BYTES
  }

  out[at] = 0x81
  out[at + 1] = RTCP_SDES
  out.writeUInt16BE(sdesLength / 4 - 1, at + 2)
  out.writeUInt32BE(input.ssrc >>> 0, at + 4)
  out[at + 8] = 1 // CNAME
  out[at + 9] = cname.length
  cname.copy(out, at + 10)
  at += sdesLength

  if (input.bye) {
    out[at] = 0x81
    out[at + 1] = RTCP_BYE
    out.writeUInt16BE(1, at + 2)
    out.writeUInt32BE(input.ssrc >>> 0, at + 4)
  }
  return out
}

function readBlocks(buf: Buffer, at: number, count: number, end: number): ReportBlock[] | null {
  if (at + count * BLOCK_BYTES > end) return null
  const blocks: ReportBlock[] = []
  for (let i = 0; i < count; i++, at += BLOCK_BYTES) {
    const raw = buf.readUIntBE(at + 5, 3)
    blocks.push({
      ssrc: buf.readUInt32BE(at),
      fractionLost: buf[at + 4],
      cumulativeLost: raw & 0x800000 ? raw - 0x1000000 : raw,
      extendedHighestSeq: buf.readUInt32BE(at + 8),
      jitter: buf.readUInt32BE(at + 12),
      lastSr: buf.readUInt32BE(at + 16),
      delaySinceLastSr: buf.readUInt32BE(at + 20),
    })
  }
  return blocks
}

function readSdes(buf: Buffer, at: number, chunks: number, end: number, into: Map<number, string>) {
  for (let c = 0; c < chunks && at + 4 <= end; c++) {
    const ssrc = buf.readUInt32BE(at)
    at += 4
    while (at < end && buf[at] !== 0) {
      const type = buf[at]
      if (at + 2 > end) return
      const length = buf[at + 1]
      if (at + 2 + length > end) return
      if (type === 1) into.set(ssrc, buf.toString('utf8', at + 2, at + 2 + length))
      at += 2 + length
    }
    // The chunk ends with one to four nulls up to the next 32-bit boundary
    at = (Math.floor(at / 4) + 1) * 4
  }
}

/**
 * Reads a compound RTCP packet (plain, already decrypted). Null when it is not one: wrong
 * version, a length that runs past the datagram, too large. Unknown packet types are skipped.
 */
export function parseRtcp(buf: Buffer, length = buf.length): ParsedRtcp | null {
  if (length < 8 || length > MAX_RTCP_BYTES || length > buf.length) return null
  const parsed: ParsedRtcp = { reports: [], cnames: new Map(), byes: [] }
  let at = 0
  let packets = 0
  while (at < length) {
    if (at + 4 > length || ++packets > MAX_PACKETS) return null
    const first = buf[at]
    if (first >> 6 !== 2) return null
    const count = first & 0x1f
    const type = buf[at + 1]
    const end = at + (buf.readUInt16BE(at + 2) + 1) * 4
    if (end > length) return null
    // The first packet of a compound is an SR or RR (RFC 3550 §6.1)
    if (packets === 1 && type !== RTCP_SR && type !== RTCP_RR) return null
    if (type === RTCP_SR || type === RTCP_RR) {
      const headerEnd = at + 8 + (type === RTCP_SR ? 20 : 0)
      if (headerEnd > end) return null
      const blocks = readBlocks(buf, headerEnd, count, end)
      if (blocks === null) return null
      parsed.reports.push({
        type,
        ssrc: buf.readUInt32BE(at + 4),
        sender:
          type === RTCP_SR
            ? {
                ntpSeconds: buf.readUInt32BE(at + 8),
                ntpFraction: buf.readUInt32BE(at + 12),
                rtpTimestamp: buf.readUInt32BE(at + 16),
                packetCount: buf.readUInt32BE(at + 20),
                octetCount: buf.readUInt32BE(at + 24),
              }
            : null,
        blocks,
      })
    } else if (type === RTCP_SDES) {
      readSdes(buf, at + 4, count, end, parsed.cnames)
    } else if (type === RTCP_BYE) {
      for (let i = 0; i < count && at + 8 + i * 4 <= end; i++)
        parsed.byes.push(buf.readUInt32BE(at + 4 + i * 4))
    }
    at = end
  }
  return parsed
}

/** Seconds between the NTP epoch (1900) and the Unix epoch (1970). */
const NTP_UNIX_OFFSET = 2_208_988_800

/** NTP timestamp of a wall-clock time in ms since the Unix epoch. */
export function ntpTime(unixMs: number): { seconds: number; fraction: number } {
  const seconds = Math.floor(unixMs / 1000)
  const fraction = Math.floor(((unixMs - seconds * 1000) / 1000) * 0x1_0000_0000)
  return { seconds: (seconds + NTP_UNIX_OFFSET) >>> 0, fraction: fraction >>> 0 }
}

/** The middle 32 bits of an NTP timestamp (the LSR/DLSR unit: 1/65536 s). */
export function ntpMiddle(seconds: number, fraction: number): number {
  return (((seconds & 0xffff) << 16) | (fraction >>> 16)) >>> 0
}

/**
 * Round-trip time from a report block about our stream (RFC 3550 §6.4.1): arrival (as middle 32
 * NTP bits) minus LSR minus DLSR. Null when the peer has no SR of ours yet (LSR 0) or the result
 * is not plausible (negative, or more than a minute: clocks or a stale report).
 */
export function roundTripMs(arrivalMiddle: number, lastSr: number, delaySinceLastSr: number) {
  if (lastSr === 0) return null
  const units = (arrivalMiddle - lastSr - delaySinceLastSr) | 0
  if (units < 0 || units > 60 * 65536) return null
  return (units * 1000) / 65536
}
