/*
 * The browser side of G.711 only (see sdp_codecs.ts for why): codec preferences on the
 * transceivers, and the SDP filter as a sip.js modifier.
 */
import { Web, type Session, type SessionDescriptionHandlerFactory } from 'sip.js'
import { G711_CODECS, isG711Codec, restrictSdpToG711 } from './sdp_codecs.js'

/** The receiver's G.711 and 8 kHz telephone-event codecs, in our order of preference; empty when unknown. */
export function g711Capabilities(): RTCRtpCodec[] {
  const capabilities =
    typeof RTCRtpReceiver !== 'undefined' ? RTCRtpReceiver.getCapabilities?.('audio') : null
  if (!capabilities) return []
  const order = (codec: RTCRtpCodec) =>
    G711_CODECS.findIndex((entry) => entry.mimeType === codec.mimeType.toLowerCase())
  return capabilities.codecs.filter(isG711Codec).sort((a, b) => order(a) - order(b))
}

/** sip.js modifier form of restrictSdpToG711. */
export async function g711Modifier(
  description: RTCSessionDescriptionInit
): Promise<RTCSessionDescriptionInit> {
  return description.sdp ? { ...description, sdp: restrictSdpToG711(description.sdp) } : description
}

/**
 * sip.js's session description handler with the audio transceivers limited to G.711 before every
 * offer and answer, so the browser itself never negotiates anything else.
 */
export class G711SessionDescriptionHandler extends Web.SessionDescriptionHandler {
  protected override async updateDirection(
    options?: Web.SessionDescriptionHandlerOptions
  ): Promise<void> {
    await super.updateDirection(options)
    const codecs = g711Capabilities()
    if (codecs.length === 0) return
    for (const transceiver of this.peerConnection?.getTransceivers() ?? []) {
      if (
        transceiver.receiver.track?.kind !== 'audio' ||
        transceiver.currentDirection === 'stopped'
      )
        continue
      if (typeof transceiver.setCodecPreferences === 'function')
        transceiver.setCodecPreferences(codecs)
    }
  }
}

/**
 * Session description handlers for the web phone: G.711 only, host candidates only (no public
 * STUN server: our server is reachable directly), microphone from `mediaStreamFactory`.
 */
export function g711SessionDescriptionHandlerFactory(
  mediaStreamFactory: Web.MediaStreamFactory
): SessionDescriptionHandlerFactory {
  return (session: Session, options?: Web.SessionDescriptionHandlerFactoryOptions) => {
    const logger = session.userAgent.getLogger('sip.SessionDescriptionHandler')
    return new G711SessionDescriptionHandler(logger, mediaStreamFactory, {
      iceGatheringTimeout: options?.iceGatheringTimeout ?? 2000,
      peerConnectionConfiguration: {
        ...Web.defaultPeerConnectionConfiguration(),
        iceServers: [],
        ...options?.peerConnectionConfiguration,
      },
    })
  }
}
