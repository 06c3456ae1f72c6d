import type { AudioCodecName, MediaDirection } from '#calls/media/types'

/**
 * What signalling needs to know of an SDP without negotiating it: which G.711 codecs the first
 * audio stream offers (in the offer's order), its direction, and whether it is WebRTC. The media
 * engine does the real negotiation; this only picks legs and codec lists.
 */
export interface SdpFacts {
  codecs: AudioCodecName[]
  direction: MediaDirection
  webrtc: boolean
}

const STATIC_TYPES: Record<string, AudioCodecName> = { '0': 'PCMU', '8': 'PCMA' }
const DIRECTIONS = new Set(['sendrecv', 'sendonly', 'recvonly', 'inactive'])

export function sdpFacts(sdp: string): SdpFacts {
  const lines = sdp.split(/\r?\n/)
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
  return { codecs, direction, webrtc }
}

/** True when the direction means the sender put the call on hold. */
export function isHold(direction: MediaDirection) {
  return direction === 'sendonly' || direction === 'inactive'
}
