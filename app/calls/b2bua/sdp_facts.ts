import { isIP } from 'node:net'
import type { AudioCodecName, MediaDirection } from '#media'

/**
 * What signalling needs to know of an SDP without negotiating it: which G.711 codecs the first
 * audio stream offers (in the offer's order), its direction, whether it is WebRTC, and why it
 * cannot be used at all. The media engine does the real negotiation; this only picks legs and
 * codec lists, and lets the B2BUA answer 488 before any carrier or phone hears of the call.
 */
export interface SdpFacts {
  codecs: AudioCodecName[]
  direction: MediaDirection
  webrtc: boolean
  /** Why no media leg could take this offer (→ 488); null when it looks usable. */
  problem: string | null
}

/** Far above any real offer; the media engine enforces its own, stricter limits. */
const MAX_SDP_LENGTH = 64 * 1024

const STATIC_TYPES: Record<string, AudioCodecName> = { '0': 'PCMU', '8': 'PCMA' }
const DIRECTIONS = new Set(['sendrecv', 'sendonly', 'recvonly', 'inactive'])

export function sdpFacts(sdp: string): SdpFacts {
  const lines = sdp.length > MAX_SDP_LENGTH ? [] : sdp.split(/\r?\n/)
  const audioStart = lines.findIndex((line) => line.startsWith('m=audio '))
  const session = audioStart === -1 ? lines : lines.slice(0, audioStart)
  let audioEnd = lines.findIndex((line, index) => index > audioStart && line.startsWith('m='))
  if (audioEnd === -1) audioEnd = lines.length
  const media = audioStart === -1 ? [] : lines.slice(audioStart, audioEnd)

  const names = new Map<string, string>()
  for (const line of media) {
    const match = /^a=rtpmap:(\d+)\s+([^/\s]+)\/(\d+)/.exec(line)
    if (match && match[3] === '8000') names.set(match[1], match[2].toUpperCase())
  }
  const codecs: AudioCodecName[] = []
  const formats = media[0]?.split(' ').slice(3) ?? []
  for (const format of formats) {
    const name = names.get(format) ?? STATIC_TYPES[format]
    if ((name === 'PCMU' || name === 'PCMA') && !codecs.includes(name)) codecs.push(name)
  }

  const pick = (section: string[]) =>
    section.map((line) => line.slice(2)).find((value) => DIRECTIONS.has(value)) as MediaDirection | undefined
  const webrtc =
    (media[0] ?? '').includes('UDP/TLS/RTP/SAVPF') || lines.some((line) => line.startsWith('a=fingerprint:'))
  const explicit = pick(media) ?? pick(session)
  // RFC 2543 hold: a zero connection address without a direction attribute. WebRTC writes
  // 0.0.0.0 with ICE as a matter of course, so it never means hold there.
  const connection = [...media, ...session].find((line) => line.startsWith('c='))
  const zeroAddress = connection?.endsWith(' 0.0.0.0') ?? false
  const direction: MediaDirection = explicit ?? (zeroAddress && !webrtc ? 'inactive' : 'sendrecv')
  return { codecs, direction, webrtc, problem: problemOf(lines, media, connection, codecs, webrtc) }
}

function problemOf(
  lines: string[],
  media: string[],
  connection: string | undefined,
  codecs: AudioCodecName[],
  webrtc: boolean
): string | null {
  if (lines[0]?.trim() !== 'v=0') return 'Not an SDP offer'
  if (!media.length) return 'An audio stream is required'
  const port = /^m=audio (\d{1,5})(?:\/\d+)? \S+/.exec(media[0])
  if (!port) return 'Malformed audio stream'
  if (Number(port[1]) === 0 || Number(port[1]) > 65_535) return 'The audio stream is disabled (port 0)'
  if (!codecs.length) return 'PCMU or PCMA required'
  // WebRTC finds its addresses by ICE; plain RTP goes where c= says, so that must be an address.
  const address = connection?.split(/\s+/)[2]
  if (!webrtc && (!address || !isIP(address))) return 'The connection address must be an IP address'
  return null
}

/** True when the direction means the sender put the call on hold. */
export function isHold(direction: MediaDirection) {
  return direction === 'sendonly' || direction === 'inactive'
}
