import { isIP } from 'node:net'
import type { AudioCodecName, MediaDirection } from '#media/types'
import { CODEC_CLOCK_RATES, MediaNegotiationError } from '#media/types'
import { effectiveDirection, parseAudioSdp, type AudioDescription } from '#media/sdp/audio_sdp'

/**
 * What signalling needs to know of an SDP without negotiating it: which of our codecs the first
 * audio stream offers (in the offer's order: PCMU, PCMA, Opus), its direction, whether it is WebRTC, and why it
 * cannot be used at all. Read by the same bounded reader as the media engine (parseAudioSdp,
 * SDP_LIMITS), so the B2BUA answers 488 before any carrier or phone hears of the call exactly when
 * a media leg would refuse the offer too.
 */
export interface SdpFacts {
  codecs: AudioCodecName[]
  /** The peer's direction, a zero connection address of plain RTP counted as hold (see isHold). */
  direction: MediaDirection
  webrtc: boolean
  /** RTP/SAVP: the peer offers SDES-SRTP (RFC 4568), usable or not (see cryptoProblem). */
  sdes: boolean
  /** For an RTP/SAVP offer, why none of its a=crypto lines is usable (→ 488); never key material. */
  cryptoProblem: string | null
  /** Why no media leg could take this offer (→ 488); null when it looks usable. */
  problem: string | null
}

/** The reasons of the unusable crypto lines, as a 488 phrase (the reader never quotes keys). */
function cryptoProblemOf(audio: AudioDescription): string | null {
  if (audio.crypto.length) return null
  if (!audio.cryptoRejected.length) return 'SRTP offered without an a=crypto line'
  const reasons = audio.cryptoRejected
    .slice(0, 3)
    .map((entry) => (entry.tag === null ? entry.reason : `tag ${entry.tag}: ${entry.reason}`))
  return `No usable a=crypto line (${reasons.join('; ')})`
}

/** The reader's reasons as the 488 phrases the caller sees. */
function problemOfFailure(reason: string): string {
  if (reason.includes('no audio stream')) return 'An audio stream is required'
  if (
    reason.includes('m=audio') ||
    reason.includes('payload type') ||
    reason.includes('invalid port')
  ) {
    return 'Malformed audio stream'
  }
  if (reason.includes('connection address') || reason.includes('c= line')) {
    return 'The connection address must be an IP address'
  }
  return 'Not an SDP offer'
}

export function sdpFacts(sdp: string): SdpFacts {
  let audio: AudioDescription
  try {
    audio = parseAudioSdp(sdp)
  } catch (error) {
    if (!(error instanceof MediaNegotiationError)) throw error
    return {
      codecs: [],
      direction: 'sendrecv',
      webrtc: false,
      sdes: false,
      cryptoProblem: null,
      problem: problemOfFailure(error.message),
    }
  }
  const webrtc = audio.dtls
  const codecs: AudioCodecName[] = []
  for (const pt of audio.payloadTypes) {
    const map = audio.rtpmaps.get(pt)
    const name = map?.clockRate === 8000 ? map.name.toUpperCase() : undefined
    if ((name === 'PCMU' || name === 'PCMA') && !codecs.includes(name)) codecs.push(name)
    const opus = map?.clockRate === CODEC_CLOCK_RATES.opus && map.name.toLowerCase() === 'opus'
    if (opus && !codecs.includes('opus')) codecs.push('opus')
  }
  // WebRTC writes 0.0.0.0 with ICE as a matter of course, so it never means hold there.
  const direction = webrtc ? audio.direction : effectiveDirection(audio)
  const sdes = !webrtc && audio.protocol === 'RTP/SAVP'
  return {
    codecs,
    direction,
    webrtc,
    sdes,
    cryptoProblem: sdes ? cryptoProblemOf(audio) : null,
    problem: problemOf(audio, codecs, webrtc),
  }
}

function problemOf(
  audio: AudioDescription,
  codecs: AudioCodecName[],
  webrtc: boolean
): string | null {
  if (audio.port === 0) return 'The audio stream is disabled (port 0)'
  if (!codecs.length) return 'PCMU, PCMA or Opus required'
  // WebRTC finds its addresses by ICE; plain RTP goes where c= says, so that must be an address.
  if (!webrtc && !isIP(audio.address)) return 'The connection address must be an IP address'
  return null
}

export { isHold } from '#media/sdp/audio_sdp'
