/**
 * The IPC protocol between WorkerMediaEngine (main process) and a media worker process
 * (media_worker.ts). Requests carry an id and get exactly one response with that id; events
 * come from the worker unasked. Legs, bridges and echoes are named by ids the main process picks,
 * so a request may name a leg before the worker answered the one that created it (the channel
 * keeps order). Everything is structured-clone data: SDP strings, numbers, plain objects.
 */
import type {
  Announcement,
  AnswerOptions,
  BridgeEndReason,
  LegQuality,
  MediaEngineConfig,
  MediaLegStats,
  NegotiatedMedia,
  OfferOptions,
} from '#media/types'
import type { TonePattern } from '#media/tone'
import type { MediaEngineFigures } from '#media/media_engine_stats'

export type WorkerRequest =
  | { op: 'createLeg'; leg: number; kind: 'webrtc' | 'rtp'; latching?: boolean; srtp?: boolean }
  | { op: 'answer'; leg: number; sdp: string; options: AnswerOptions }
  | {
      op: 'createOffer'
      leg: number
      options: Omit<OfferOptions, 'payloadTypesFrom'> & { payloadTypesFrom?: string }
    }
  | { op: 'applyAnswer'; leg: number; sdp: string }
  | { op: 'ready'; leg: number }
  /** Answered with the closed legs' jitter not sent yet ({ closedJitter: number[] }). */
  | { op: 'closeLeg'; leg: number }
  | { op: 'bridge'; bridge: number; a: number; b: number; mediaTimeoutSeconds?: number }
  | { op: 'refresh'; bridge: number }
  | { op: 'setHeld'; bridge: number; held: boolean }
  | { op: 'replace'; bridge: number; old: number; next: number }
  | { op: 'playTone'; bridge: number; toward: number; pattern?: TonePattern }
  | { op: 'playAnnouncement'; bridge: number; toward: number; announcement: Announcement }
  | { op: 'closeBridge'; bridge: number }
  | { op: 'echo'; echo: number; leg: number }
  | { op: 'closeEcho'; echo: number }
  | { op: 'tap'; on: boolean }
  /**
   * Answered once everything sent before it was handled (the channel keeps order), after a
   * stats message: the counters are fresh when the answer arrives.
   */
  | { op: 'ping' }
  /** Tests only (refused unless the engine was made with testHooks): allocate until the heap limit kills the worker. */
  | { op: 'exhaustMemory' }
  | { op: 'close' }

export type RequestMessage = WorkerRequest & { id: number }

/** What a failed request threw, to be thrown again in the main process as the same class. */
export interface WorkerError {
  name: string
  message: string
  resource?: 'rtp_ports' | 'webrtc_ports' | 'media_engine'
  feature?: 'echo' | 'tone' | 'srtp' | 'announcement'
}

export type ResponseMessage =
  | { type: 'response'; id: number; ok: true; result?: unknown }
  | { type: 'response'; id: number; ok: false; error: WorkerError }

export interface LegSnapshot {
  leg: number
  stats: MediaLegStats
  quality: LegQuality
}

export type EventMessage =
  /** The worker is up (its engine listens on its port slices). */
  | { type: 'ready'; pid: number }
  /** Sent every STATS_INTERVAL_MS: the legs' counters and the bridges' relayed figures. */
  | {
      type: 'stats'
      legs: LegSnapshot[]
      bridges: Array<{ bridge: number; aToB: number; bToA: number }>
      counters: MediaEngineFigures
      /** Jitter of the RTP legs closed since the last message (ms), for the per-leg histogram. */
      closedJitter: number[]
    }
  | { type: 'bridgeEnded'; bridge: number; reason: BridgeEndReason }
  /** A leg closed on its own (ICE or DTLS failed for good). */
  | { type: 'legClosed'; leg: number }
  /** A WebRTC leg's connection failed (no ICE pair, DTLS failed, consent expired). */
  | { type: 'legFailed'; leg: number }
  /** Tests only (tap on): one relayed packet. */
  | {
      type: 'tapped'
      bridge: number
      direction: 'aToB' | 'bToA'
      from: number
      to: number
      payloadType: number
      dtmf: boolean
      payload: Uint8Array
    }

/** The first message to a fresh worker: its engine's configuration (its own port slices). */
export interface InitMessage {
  type: 'init'
  config: MediaEngineConfig
  /** The tests' requests (exhaustMemory) are answered: set only by a test's engine. */
  testHooks?: boolean
}

export const STATS_INTERVAL_MS = 250

export type { NegotiatedMedia }
