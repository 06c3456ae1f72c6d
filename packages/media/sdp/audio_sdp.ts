import {
  MAX_CRYPTO_LINES,
  parseCryptoAttribute,
  type SdesCrypto,
  type SdesRejection,
} from '#media/sdp/sdes_crypto'
import {
  CODEC_CLOCK_RATES,
  MediaNegotiationError,
  type AudioCodecName,
  type MediaDirection,
} from '#media/types'

/**
 * The one place where SDP from peers is read (RFC 4566/3264, audio only). Bounded: an SDP that is
 * too large, has too many or too long lines, or lacks what we need is a MediaNegotiationError
 * (→ 488), never an uncaught exception.
 */

export const SDP_LIMITS = {
  maxBytes: 16_384,
  maxLines: 256,
  maxLineLength: 1_024,
  maxPayloadTypes: 32,
}

export interface RtpMap {
  name: string
  clockRate: number
}

export interface AudioDescription {
  /** Connection address of the audio stream (media-level c= wins over session-level). */
  address: string
  port: number
  /** e.g. RTP/AVP, RTP/SAVP, UDP/TLS/RTP/SAVPF */
  protocol: string
  payloadTypes: number[]
  rtpmaps: Map<number, RtpMap>
  /** The direction as the peer wrote it (its own view); sendrecv when it wrote none. */
  direction: MediaDirection
  /** Whether the peer wrote a direction attribute (session or audio level). */
  directionGiven: boolean
  /** a=fingerprint at session or audio level: DTLS-SRTP, a browser (c= means nothing under ICE). */
  dtls: boolean
  /** c=0.0.0.0 (RFC 2543 hold): the peer does not want to receive. */
  holdAddress: boolean
  /** a=crypto lines present (SDES-SRTP), usable or not. */
  hasCrypto: boolean
  /** a=rtcp-mux (RFC 5761): RTCP shares the RTP port. */
  rtcpMux: boolean
  /** a=rtcp (RFC 3605): the RTCP port when not RTP port + 1; null when not given. */
  rtcpPort: number | null
  /** The usable a=crypto lines of the audio stream, in the peer's order of preference. */
  crypto: SdesCrypto[]
  /** The a=crypto lines we cannot use, with the reason (for the 488's explanation). */
  cryptoRejected: SdesRejection[]
}

/** Static payload types of RFC 3551 we understand without an rtpmap. */
const STATIC_PAYLOAD_TYPES: Record<number, RtpMap> = {
  0: { name: 'PCMU', clockRate: 8000 },
  8: { name: 'PCMA', clockRate: 8000 },
}

const DIRECTIONS = new Set<MediaDirection>(['sendrecv', 'sendonly', 'recvonly', 'inactive'])

function fail(reason: string): never {
  throw new MediaNegotiationError(`SDP: ${reason}`)
}

/** Splits an SDP into lines, enforcing the limits. */
export function sdpLines(sdp: string): string[] {
  if (typeof sdp !== 'string' || sdp.length === 0) fail('empty')
  if (sdp.length > SDP_LIMITS.maxBytes) fail(`larger than ${SDP_LIMITS.maxBytes} bytes`)
  const lines = sdp.split(/\r?\n/).filter((line) => line.length > 0)
  if (lines.length > SDP_LIMITS.maxLines) fail(`more than ${SDP_LIMITS.maxLines} lines`)
  for (const line of lines) {
    if (line.length > SDP_LIMITS.maxLineLength)
      fail(`a line longer than ${SDP_LIMITS.maxLineLength}`)
  }
  if (!lines[0]?.startsWith('v=0')) fail('does not start with v=0')
  return lines
}

function parseRtpMap(value: string): [number, RtpMap] | null {
  const match = /^(\d{1,3}) ([A-Za-z0-9_.-]+)\/(\d{1,6})(?:\/\d+)?$/.exec(value.trim())
  if (!match) return null
  return [Number(match[1]), { name: match[2], clockRate: Number(match[3]) }]
}

/** Reads the first audio m-section. */
export function parseAudioSdp(sdp: string): AudioDescription {
  const lines = sdpLines(sdp)
  let sessionAddress: string | null = null
  let sessionDirection: MediaDirection = 'sendrecv'
  let sessionDirectionGiven = false
  let dtls = false
  let audio: AudioDescription | null = null
  let mediaAddress: string | null = null
  let inAudio = false
  let seenAudio = false

  for (const line of lines) {
    const type = line[0]
    const value = line.slice(2)
    // Quoted for the 488 reason, but never the key material of a crypto line
    if (line[1] !== '=') fail(`malformed line "${line.slice(0, 40).split('inline:')[0]}"`)
    if (type === 'm') {
      inAudio = false
      if (seenAudio || !value.startsWith('audio ')) continue
      const match = /^audio (\d{1,5})(?:\/\d+)? (\S+) ([\d ]+)$/.exec(value.trim())
      if (!match) fail('unreadable m=audio line')
      const payloadTypes = match[3].trim().split(/\s+/).map(Number)
      if (payloadTypes.length > SDP_LIMITS.maxPayloadTypes) fail('too many payload types')
      if (payloadTypes.some((pt) => !Number.isInteger(pt) || pt > 127)) fail('invalid payload type')
      const port = Number(match[1])
      if (port > 65535) fail('invalid port')
      audio = {
        address: '',
        port,
        protocol: match[2],
        payloadTypes,
        rtpmaps: new Map(),
        direction: sessionDirection,
        directionGiven: sessionDirectionGiven,
        dtls: false,
        holdAddress: false,
        hasCrypto: false,
        rtcpMux: false,
        rtcpPort: null,
        crypto: [],
        cryptoRejected: [],
      }
      inAudio = true
      seenAudio = true
      continue
    }
    if (type === 'c') {
      const match = /^IN IP[46] ([0-9A-Za-z.:-]+)/.exec(value)
      if (!match) fail('unreadable c= line')
      if (inAudio) mediaAddress = match[1]
      else if (!seenAudio) sessionAddress = match[1]
      continue
    }
    if (type !== 'a') continue
    const colon = value.indexOf(':')
    const name = colon === -1 ? value : value.slice(0, colon)
    const attribute = colon === -1 ? '' : value.slice(colon + 1)
    if (DIRECTIONS.has(name as MediaDirection)) {
      if (inAudio && audio) {
        audio.direction = name as MediaDirection
        audio.directionGiven = true
      } else if (!seenAudio) {
        sessionDirection = name as MediaDirection
        sessionDirectionGiven = true
      }
      continue
    }
    if (name === 'fingerprint' && (inAudio || !seenAudio)) {
      dtls = true
      continue
    }
    if (!inAudio || !audio) continue
    if (name === 'rtpmap') {
      const map = parseRtpMap(attribute)
      if (map) audio.rtpmaps.set(map[0], map[1])
    } else if (name === 'rtcp-mux') {
      audio.rtcpMux = true
    } else if (name === 'rtcp') {
      const port = /^(\d{1,5})(?:\s|$)/.exec(attribute)
      if (port && Number(port[1]) > 0 && Number(port[1]) <= 65535) audio.rtcpPort = Number(port[1])
    } else if (name === 'crypto') {
      audio.hasCrypto = true
      if (audio.crypto.length + audio.cryptoRejected.length >= MAX_CRYPTO_LINES) continue
      const result = parseCryptoAttribute(attribute)
      if (!result.ok) audio.cryptoRejected.push(result.rejection)
      else if (audio.crypto.some((entry) => entry.tag === result.crypto.tag)) {
        audio.cryptoRejected.push({ tag: result.crypto.tag, reason: 'the tag is used twice' })
      } else audio.crypto.push(result.crypto)
    }
  }

  if (!audio) fail('no audio stream')
  audio.dtls = dtls || audio.protocol.includes('UDP/TLS/RTP/SAVPF')
  const address = mediaAddress ?? sessionAddress
  if (!address) fail('no connection address (c=)')
  audio.address = address
  audio.holdAddress = address === '0.0.0.0' || address === '::'
  for (const pt of audio.payloadTypes) {
    if (!audio.rtpmaps.has(pt) && STATIC_PAYLOAD_TYPES[pt])
      audio.rtpmaps.set(pt, STATIC_PAYLOAD_TYPES[pt])
  }
  return audio
}

/**
 * The payload type of `codec` in the description, if offered: at its own clock rate (Opus 48000),
 * 8000 Hz for everything else (G.711, telephone-event).
 */
export function payloadTypeOf(description: AudioDescription, codec: string): number | null {
  const wanted = codec.toLowerCase()
  const clockRate = wanted === 'opus' ? CODEC_CLOCK_RATES.opus : 8000
  for (const pt of description.payloadTypes) {
    const map = description.rtpmaps.get(pt)
    if (map && map.name.toLowerCase() === wanted && map.clockRate === clockRate) return pt
  }
  return null
}

/** The first codec of `allowed` (preference order) that the description has. */
export function chooseAudioCodec<Codec extends AudioCodecName>(
  description: AudioDescription,
  allowed: Codec[]
): { codec: Codec; payloadType: number } | null {
  for (const codec of allowed) {
    const payloadType = payloadTypeOf(description, codec)
    if (payloadType !== null) return { codec, payloadType }
  }
  return null
}

const SEND = 1
const RECV = 2
const BITS: Record<MediaDirection, number> = {
  inactive: 0,
  sendonly: SEND,
  recvonly: RECV,
  sendrecv: SEND | RECV,
}
const FROM_BITS: MediaDirection[] = ['inactive', 'sendonly', 'recvonly', 'sendrecv']

export function canSend(direction: MediaDirection) {
  return (BITS[direction] & SEND) !== 0
}

export function canReceive(direction: MediaDirection) {
  return (BITS[direction] & RECV) !== 0
}

/**
 * The one idea of hold: the peer holds the call when it will not receive, by direction (sendonly,
 * inactive, RFC 3264 §8.4) or by a zero connection address (RFC 2543 hold, RFC 3264 §8.4).
 */
export function peerHolds(peer: AudioDescription): boolean {
  return isHold(effectiveDirection(peer))
}

/** True when a peer's (effective) direction means it put the call on hold. */
export function isHold(direction: MediaDirection): boolean {
  return direction === 'sendonly' || direction === 'inactive'
}

/**
 * The peer's direction with a zero connection address taken into account: it cannot receive
 * there, and without a direction attribute RFC 2543 hold means no media at all (inactive).
 */
export function effectiveDirection(peer: AudioDescription): MediaDirection {
  if (!peer.holdAddress) return peer.direction
  if (!peer.directionGiven) return 'inactive'
  return FROM_BITS[BITS[peer.direction] & ~RECV]
}

/**
 * Our direction towards a peer, given what the peer wrote (its view) and what we want:
 * we may send only if the peer receives, receive only if it sends (RFC 3264 §6.1).
 */
export function ourDirection(
  peer: AudioDescription,
  wanted: MediaDirection = 'sendrecv'
): MediaDirection {
  let peerBits = BITS[peer.direction]
  if (peer.holdAddress) peerBits &= ~RECV
  const mirrored = ((peerBits & SEND) !== 0 ? RECV : 0) | ((peerBits & RECV) !== 0 ? SEND : 0)
  return FROM_BITS[mirrored & BITS[wanted]]
}

/**
 * Removes every audio payload type not in `keep` from the SDP's first audio m-section (with its
 * rtpmap, fmtp and rtcp-fb lines). Used on browser SDP before werift sees it: werift matches
 * codecs by name, not clock rate (telephone-event/48000 bug), and must answer only what the
 * carrier side can take.
 */
export function restrictAudioPayloads(sdp: string, keep: Set<number>): string {
  const lines = sdpLines(sdp)
  const out: string[] = []
  let inAudio = false
  let done = false
  for (const line of lines) {
    if (line.startsWith('m=')) {
      inAudio = !done && line.startsWith('m=audio ')
      if (inAudio) {
        done = true
        const parts = line.split(' ')
        const kept = parts.slice(3).filter((pt) => keep.has(Number(pt)))
        if (kept.length === 0) fail('no usable audio codec left')
        out.push([...parts.slice(0, 3), ...kept].join(' '))
        continue
      }
    }
    if (inAudio) {
      const match = /^a=(rtpmap|fmtp|rtcp-fb):(\d+)[ ]/.exec(line)
      if (match && !keep.has(Number(match[2]))) continue
    }
    out.push(line)
  }
  return out.join('\r\n') + '\r\n'
}

/** The telephone-event payload types at 8000 Hz; others (48000 from browsers) are dropped. */
export function telephoneEvent8000(description: AudioDescription): number | null {
  return payloadTypeOf(description, 'telephone-event')
}

export interface AudioSdpInput {
  sessionId: string
  version: number
  address: string
  port: number
  audio: { codec: AudioCodecName; payloadType: number }[]
  dtmfPayloadType: number | null
  direction: MediaDirection
  /** SDES attribute values (`crypto:...`, see sdes_crypto.ts): the stream becomes RTP/SAVP. */
  crypto?: string[]
  /** a=rtcp-mux: answered when the peer offered it (RFC 5761 §5.1.1). */
  rtcpMux?: boolean
}

/** RTP/AVP SDP for carriers and SIP phones (RTP/SAVP with SDES keys), 20 ms packets; Opus per RFC 7587. */
export function buildAudioSdp(input: AudioSdpInput): string {
  const family = input.address.includes(':') ? 'IP6' : 'IP4'
  const pts = input.audio.map((entry) => entry.payloadType)
  if (input.dtmfPayloadType !== null) pts.push(input.dtmfPayloadType)
  const lines = [
    'v=0',
    `o=- ${input.sessionId} ${input.version} IN ${family} ${input.address}`,
    's=-',
    `c=IN ${family} ${input.address}`,
    't=0 0',
    `m=audio ${input.port} ${input.crypto?.length ? 'RTP/SAVP' : 'RTP/AVP'} ${pts.join(' ')}`,
    ...input.audio.flatMap((entry) =>
      entry.codec === 'opus'
        ? [
            `a=rtpmap:${entry.payloadType} opus/48000/2`,
            `a=fmtp:${entry.payloadType} minptime=10;useinbandfec=1`,
          ]
        : [`a=rtpmap:${entry.payloadType} ${entry.codec}/8000`]
    ),
  ]
  if (input.dtmfPayloadType !== null) {
    lines.push(
      `a=rtpmap:${input.dtmfPayloadType} telephone-event/8000`,
      `a=fmtp:${input.dtmfPayloadType} 0-16`
    )
  }
  lines.push('a=ptime:20', `a=${input.direction}`)
  if (input.rtcpMux) lines.push('a=rtcp-mux')
  for (const attribute of input.crypto ?? []) lines.push(`a=${attribute}`)
  return lines.join('\r\n') + '\r\n'
}
