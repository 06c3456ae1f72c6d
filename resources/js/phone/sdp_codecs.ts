/**
 * The web phone offers Opus first, then G.711 (PCMU, PCMA), and RFC 4733 events at 8 kHz. The
 * server relays media without transcoding: towards another web phone (or a SIP phone that takes
 * Opus) Opus passes through; towards a carrier or a G.711-only SIP phone the server answers our
 * offer with PCMU or PCMA, which is why G.711 stays in every offer (the web phone cannot know
 * where a call ends up). Nothing else
 * (G722, RED, CN, telephone-event/48000) is offered: werift would answer telephone-event/48000
 * beside PCMU/8000 (docs/telephony-notes.md). Plain string work, no browser API.
 */
export const PHONE_CODECS = [
  { mimeType: 'audio/opus', clockRate: 48000 },
  { mimeType: 'audio/pcmu', clockRate: 8000 },
  { mimeType: 'audio/pcma', clockRate: 8000 },
  { mimeType: 'audio/telephone-event', clockRate: 8000 },
] as const

/** RFC 6464 client-to-mixer audio level: never negotiated by the web phone (phone_codecs.ts). */
export const AUDIO_LEVEL_URI = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level'

export function isPhoneCodec(codec: { mimeType: string; clockRate: number }): boolean {
  return PHONE_CODECS.some(
    (entry) =>
      entry.mimeType === codec.mimeType.toLowerCase() && entry.clockRate === codec.clockRate
  )
}

/**
 * Keeps only Opus/48000, PCMU, PCMA and telephone-event/8000 (and no audio level extension) in
 * every audio m-line of an SDP: the fallback where setCodecPreferences is missing, and a guard on
 * the offer we send either way.
 */
export function restrictSdpToPhoneCodecs(sdp: string): string {
  const lines = sdp.split(/\r\n|\n/)
  const sections: string[][] = [[]]
  for (const line of lines) {
    if (line.startsWith('m=')) sections.push([])
    sections[sections.length - 1].push(line)
  }
  const [session, ...media] = sections
  return [session, ...media.map(restrictSection)].flat().join('\r\n')
}

function restrictSection(section: string[]): string[] {
  const [mLine, ...attributes] = section
  if (!mLine.startsWith('m=audio ')) return section
  const kept = new Set<string>()
  for (const line of attributes) {
    const rtpmap = /^a=rtpmap:(\d+) ([^/]+)\/(\d+)/.exec(line)
    if (rtpmap && isPhoneCodec({ mimeType: `audio/${rtpmap[2]}`, clockRate: Number(rtpmap[3]) }))
      kept.add(rtpmap[1])
  }
  // Static payload types 0 (PCMU) and 8 (PCMA) need no rtpmap line.
  const [, port, proto, ...formats] = mLine.split(' ')
  for (const format of formats) if (format === '0' || format === '8') kept.add(format)
  const keptFormats = formats.filter((format) => kept.has(format))
  const payloadLine = /^a=(rtpmap|fmtp|rtcp-fb):(\d+)[ ]/
  return [
    ['m=audio', port, proto, ...keptFormats].join(' '),
    ...attributes.filter((line) => {
      if (line.startsWith('a=extmap:') && line.includes(AUDIO_LEVEL_URI)) return false
      const match = payloadLine.exec(line)
      return !match || kept.has(match[2])
    }),
  ]
}
