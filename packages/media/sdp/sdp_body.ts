/** A message body as signalling carries it (the SIP stack's SessionDescription has this shape). */
export interface SdpBody {
  body: Buffer
  contentType: string
}

/**
 * The SDP part of a body that may be multipart (an emergency INVITE's echo in a response). Only
 * cut out here; what it says is read by parseAudioSdp (sdpFacts), within SDP_LIMITS.
 */
export function sdpOf(description: SdpBody | undefined): string | undefined {
  if (!description) return undefined
  const text = description.body.toString('utf8')
  if (!description.contentType.toLowerCase().startsWith('multipart/')) return text
  const match = /boundary="?([^";]+)"?/i.exec(description.contentType)
  if (!match) return undefined
  for (const part of text.split(`--${match[1]}`)) {
    const split = part.indexOf('\r\n\r\n')
    if (split !== -1 && /content-type:\s*application\/sdp/i.test(part.slice(0, split))) {
      return part.slice(split + 4).replace(/\r\n$/, '')
    }
  }
  return undefined
}
