/*
 * The browser side of the web phone's codecs, Opus first, then PCMU, PCMA and telephone-event/8000
 * (see sdp_codecs.ts for why): codec preferences on the transceivers, and the SDP filter as a
 * sip.js modifier.
 */
import { Web, type Session, type SessionDescriptionHandlerFactory } from 'sip.js'
import {
  AUDIO_LEVEL_URI,
  PHONE_CODECS,
  isPhoneCodec,
  restrictSdpToPhoneCodecs,
} from './sdp_codecs.js'

/** The receiver's Opus, G.711 and 8 kHz telephone-event codecs, in our order of preference; empty when unknown. */
export function phoneCodecCapabilities(): RTCRtpCodec[] {
  const capabilities =
    typeof RTCRtpReceiver !== 'undefined' ? RTCRtpReceiver.getCapabilities?.('audio') : null
  if (!capabilities) return []
  const order = (codec: RTCRtpCodec) =>
    PHONE_CODECS.findIndex((entry) => entry.mimeType === codec.mimeType.toLowerCase())
  return capabilities.codecs.filter(isPhoneCodec).sort((a, b) => order(a) - order(b))
}

/** sip.js modifier form of restrictSdpToPhoneCodecs. */
export async function phoneCodecModifier(
  description: RTCSessionDescriptionInit
): Promise<RTCSessionDescriptionInit> {
  return description.sdp
    ? { ...description, sdp: restrictSdpToPhoneCodecs(description.sdp) }
    : description
}

/**
 * sip.js's session description handler with the audio transceivers limited to our codecs (Opus
 * first) before every offer and answer, so the browser itself never negotiates anything else.
 */
export class PhoneCodecSessionDescriptionHandler extends Web.SessionDescriptionHandler {
  /** Called once the microphone's track is on the connection, before any offer or answer. */
  onLocalTracks: ((peerConnection: RTCPeerConnection) => void) | null = null

  protected override async setLocalMediaStream(stream: MediaStream): Promise<void> {
    await super.setLocalMediaStream(stream)
    if (this.peerConnection) this.onLocalTracks?.(this.peerConnection)
  }

  protected override async updateDirection(
    options?: Web.SessionDescriptionHandlerOptions
  ): Promise<void> {
    await super.updateDirection(options)
    const codecs = phoneCodecCapabilities()
    if (codecs.length === 0) return
    for (const transceiver of this.peerConnection?.getTransceivers() ?? []) {
      if (
        transceiver.receiver.track?.kind !== 'audio' ||
        transceiver.currentDirection === 'stopped'
      )
        continue
      if (typeof transceiver.setCodecPreferences === 'function')
        transceiver.setCodecPreferences(codecs)
      withoutAudioLevel(transceiver)
    }
  }
}

/**
 * The audio level header extension would tell our relay when someone speaks, beside end-to-end
 * encrypted frames: the web phone never negotiates it (a caller cannot know whether its call will
 * be end-to-end encrypted, and our server has no use for it).
 */
function withoutAudioLevel(transceiver: RTCRtpTransceiver): void {
  const negotiable = transceiver as RTCRtpTransceiver & {
    getHeaderExtensionsToNegotiate?: () => Array<{ uri: string; direction: string }>
    setHeaderExtensionsToNegotiate?: (extensions: Array<{ uri: string; direction: string }>) => void
  }
  if (!negotiable.getHeaderExtensionsToNegotiate || !negotiable.setHeaderExtensionsToNegotiate)
    return
  const extensions = negotiable.getHeaderExtensionsToNegotiate()
  if (!extensions.some((extension) => extension.uri === AUDIO_LEVEL_URI)) return
  try {
    negotiable.setHeaderExtensionsToNegotiate(
      extensions.map((extension) =>
        extension.uri === AUDIO_LEVEL_URI ? { ...extension, direction: 'stopped' } : extension
      )
    )
  } catch {
    // Offered by the server and accepted already (it is then "mandatory"): the server's offer
    // decides; for end-to-end encrypted calls the B2BUA leaves it out.
  }
}

/**
 * Session description handlers for the web phone: Opus, G.711 and telephone-event/8000, host candidates only (no public
 * STUN server: our server is reachable directly), microphone from `mediaStreamFactory`.
 */
export function phoneSessionDescriptionHandlerFactory(
  mediaStreamFactory: Web.MediaStreamFactory,
  onLocalTracks?: (session: Session, peerConnection: RTCPeerConnection) => void
): SessionDescriptionHandlerFactory {
  return (session: Session, options?: Web.SessionDescriptionHandlerFactoryOptions) => {
    const logger = session.userAgent.getLogger('sip.SessionDescriptionHandler')
    const handler = new PhoneCodecSessionDescriptionHandler(logger, mediaStreamFactory, {
      iceGatheringTimeout: options?.iceGatheringTimeout ?? 2000,
      peerConnectionConfiguration: {
        ...Web.defaultPeerConnectionConfiguration(),
        iceServers: [],
        ...options?.peerConnectionConfiguration,
      },
    })
    if (onLocalTracks) handler.onLocalTracks = (connection) => onLocalTracks(session, connection)
    return handler
  }
}
