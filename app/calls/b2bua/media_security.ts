import type { SipTransportProtocol } from '#sip'
import type { SdpFacts } from '#media'

/**
 * Which media leg a call's side gets, decided from how its signalling arrived and what it offers,
 * before anything rings (so a refusal is a 488 to the caller, not a failure after the answer).
 * SDES keys travel in the SDP itself, so SRTP is only ever taken over TLS: the same offer over
 * UDP or TCP would have shown the keys to anyone on the path.
 */

/** A browser (DTLS-SRTP), plain RTP/AVP, or SDES-SRTP (RTP/SAVP with a=crypto). */
export type LegMedia = 'webrtc' | 'rtp' | 'srtp'

export type MediaDecision = { media: LegMedia } | { refuse: string }

/** Per leg, for the CDR: null where we cannot tell. */
export interface LegEncryption {
  signalling: boolean | null
  media: boolean | null
}

const NOT_OVER_TLS = 'SRTP keys are accepted over TLS only'

/** TLS, or a WebSocket the SIP layer counts as secure (wss, or https from a trusted proxy). */
export function signallingEncrypted(protocol: SipTransportProtocol): boolean {
  return protocol === 'tls' || protocol === 'wss'
}

export function legEncryption(protocol: SipTransportProtocol, media: LegMedia): LegEncryption {
  return { signalling: signallingEncrypted(protocol), media: media !== 'rtp' }
}

/**
 * A side that changed hands (a transfer) was encrypted only if both of its parties were: false
 * when either was not, unknown (null) when either is unknown and neither was plain.
 */
export function bothEncrypted(before: LegEncryption, after: LegEncryption): LegEncryption {
  const and = (a: boolean | null, b: boolean | null) =>
    a === false || b === false ? false : a === null || b === null ? null : true
  return {
    signalling: and(before.signalling, after.signalling),
    media: and(before.media, after.media),
  }
}

/**
 * A customer's phone or browser calling: a browser is DTLS-SRTP; RTP/SAVP over TLS gets SRTP;
 * plain RTP/AVP stays plain (for now, even over TLS); RTP/SAVP over UDP/TCP is refused, except
 * to 110/112 (§ 164 TKG): the keys went in clear already, and refusing would leave the caller
 * without help (the CDR shows the signalling was not encrypted).
 */
export function phoneOfferMedia(
  protocol: SipTransportProtocol,
  facts: SdpFacts,
  emergency = false
): MediaDecision {
  if (facts.webrtc) return { media: 'webrtc' }
  if (!facts.sdes) return { media: 'rtp' }
  if (protocol !== 'tls' && !emergency) return { refuse: NOT_OVER_TLS }
  if (facts.cryptoProblem) return { refuse: facts.cryptoProblem }
  return { media: 'srtp' }
}

/** A carrier calling in: its profile decides, in both directions (`sdes` means SRTP inbound too). */
export function carrierOfferMedia(
  srtp: 'none' | 'sdes',
  protocol: SipTransportProtocol,
  facts: SdpFacts
): MediaDecision {
  if (srtp === 'none') {
    return facts.sdes ? { refuse: 'SRTP is not enabled for this carrier' } : { media: 'rtp' }
  }
  if (!facts.sdes) return { refuse: 'This carrier must offer SRTP (RTP/SAVP with a=crypto)' }
  if (protocol !== 'tls') return { refuse: NOT_OVER_TLS }
  if (facts.cryptoProblem) return { refuse: facts.cryptoProblem }
  return { media: 'srtp' }
}

/**
 * Calling a registered phone: SRTP (RTP/SAVP) when it registered over TLS, the only flow the keys
 * may go over. A desk phone set to plain RTP answers such an offer with 488 (there is no fallback
 * to RTP/AVP yet); phones over UDP/TCP get plain RTP/AVP as before.
 */
export function phoneTargetMedia(protocol: SipTransportProtocol): LegMedia {
  if (protocol === 'ws' || protocol === 'wss') return 'webrtc'
  return protocol === 'tls' ? 'srtp' : 'rtp'
}
