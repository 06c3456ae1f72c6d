/**
 * The media engine's one public entry: the MediaEngine contract the B2BUA drives (legs, bridges,
 * negotiation) and its werift implementation (ICE and DTLS for browsers via werift, our own SRTP
 * and RTP relay). werift is imported only inside this package. It knows nothing of the
 * application; its own tests may reach its files through `#media/*`.
 */
export * from './types.js'
export { default as WeriftMediaEngine, validateMediaConfig } from './werift_media_engine.js'
export { default as WeriftWebRtcLeg, type WeriftWebRtcLegOptions } from './werift_webrtc_leg.js'
// The same engine in worker processes (MEDIA_WORKERS): the main process only signals
export {
  default as WorkerMediaEngine,
  portSlices,
  type WorkerMediaEngineConfig,
  type WorkerEngineEvent,
  type MediaWorkerFigures,
} from './worker/worker_media_engine.js'
export {
  default as Heartbeat,
  type HeartbeatOptions,
  type HeartbeatTimer,
} from './worker/heartbeat.js'
// The same contract over rtpengine's ng protocol (rtpengine relays, we signal)
export {
  default as RtpengineMediaEngine,
  type RtpengineEngineConfig,
} from './rtpengine/rtpengine_media_engine.js'
export { default as NgClient, NgCommandError } from './rtpengine/ng_client.js'
export {
  AnnouncementFileError,
  readAnnouncement,
  wavSamples,
  announcementFrames,
} from './announcement.js'
export { createSrtpContext, type SrtpContext, type SrtpProfile } from './srtp_context.js'
// Counters for the app's metrics: legs, bridges, packets, loss and jitter
export { default as MediaEngineStats, type MediaEngineFigures } from './media_engine_stats.js'
export { default as ReceptionStats } from './reception_stats.js'
// The per-packet work in C++ (native/packet_path.cc) where it is built; the engine uses it itself
export { loadNativePacketPath, nativeUnavailable } from './native_packet_path.js'

// SDP from peers: one bounded reader (SDP_LIMITS) and one idea of hold
export { sdpFacts, isHold, type SdpFacts } from './sdp/sdp_facts.js'
export { sdpOf, type SdpBody } from './sdp/sdp_body.js'
export { SDP_LIMITS, peerHolds, effectiveDirection } from './sdp/audio_sdp.js'

// Tones the server plays itself (the warning before a call's maximum duration), as G.711 frames
export {
  WARNING_TONE,
  toneFrames,
  toneShare,
  linearToAlaw,
  linearToMulaw,
  alawToLinear,
  mulawToLinear,
  type TonePattern,
} from './tone.js'
