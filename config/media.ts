import env from '#start/env'
import { availableParallelism } from 'node:os'
import type { MediaEngineConfig } from '#media'

/**
 * The media engine (packages/media): the addresses written into SDP and ICE candidates, and
 * two UDP port ranges that must not overlap (checked when the engine starts).
 */

function ports(
  value: string | undefined,
  fallback: [number, number],
  name: string
): [number, number] {
  if (!value) return fallback
  const match = /^\s*(\d{1,5})\s*-\s*(\d{1,5})\s*$/.exec(value)
  if (!match) throw new Error(`${name}: expected a range such as 40000-44999, got "${value}"`)
  return [Number(match[1]), Number(match[2])]
}

const mediaConfig: MediaEngineConfig = {
  announcedIps: (env.get('MEDIA_ANNOUNCED_IPS') ?? '127.0.0.1')
    .split(',')
    .map((ip) => ip.trim())
    .filter(Boolean),
  webrtcPorts: ports(env.get('MEDIA_WEBRTC_PORTS'), [40000, 44999], 'MEDIA_WEBRTC_PORTS'),
  rtpPorts: ports(env.get('MEDIA_RTP_PORTS'), [45000, 49999], 'MEDIA_RTP_PORTS'),
  mediaTimeoutSeconds: env.get('MEDIA_TIMEOUT_SECONDS') ?? 30,
  packetPath: env.get('MEDIA_PACKET_PATH') ?? 'native',
}

/** Which engine relays the media: ours (werift + our relay) or an rtpengine over its ng protocol. */
export type MediaEngineChoice =
  /**
   * workers: media worker processes (MEDIA_WORKERS, by default -1: max(1, cores - 1)); 0 runs the
   * media in the main process. maxHeapMb: each worker's heap limit (MEDIA_WORKER_MAX_HEAP_MB).
   */
  | { engine: 'builtin'; workers: number; maxHeapMb: number | undefined }
  | {
      engine: 'rtpengine'
      ng: { host: string; port: number }
      /** Where rtpengine's own side of each leg listens (its --interface); the ng host by default. */
      innerAddress: string
      commandTimeoutMs: number
    }

export function hostPort(value: string, name: string): { host: string; port: number } {
  const match = /^\s*\[?([^\]\s]+?)\]?:(\d{1,5})\s*$/.exec(value)
  const port = match ? Number(match[2]) : 0
  if (!match || port < 1 || port > 65535) {
    throw new Error(`${name}: expected host:port such as 127.0.0.1:2223, got "${value}"`)
  }
  return { host: match[1], port }
}

const DEFAULT_WORKER_HEAP_MB = 1024

function engineChoice(): MediaEngineChoice {
  if ((env.get('MEDIA_ENGINE') ?? 'builtin') === 'builtin') {
    // By default max(1, cores - 1) workers (-1); 0 keeps the media in the main process
    const configured = env.get('MEDIA_WORKERS') ?? -1
    if (!Number.isInteger(configured) || configured < -1 || configured > 64)
      throw new Error(`MEDIA_WORKERS: expected a whole number from -1 to 64, got "${configured}"`)
    const workers = configured === -1 ? Math.max(1, availableParallelism() - 1) : configured
    // A worker's heap at 200 idle WebRTC + RTP leg pairs grew by ~90 KB per pair (2026-12-03): the
    // product's 550 calls per core fit many times into 1 GB, a leaking worker dies long before
    // the machine swaps or the kernel's OOM killer picks a process (perhaps the main one)
    const heap = env.get('MEDIA_WORKER_MAX_HEAP_MB') ?? DEFAULT_WORKER_HEAP_MB
    if (!Number.isInteger(heap) || (heap !== 0 && (heap < 32 || heap > 65536)))
      throw new Error(
        `MEDIA_WORKER_MAX_HEAP_MB: expected 0 or a whole number of MB from 32 to 65536, got "${heap}"`
      )
    return { engine: 'builtin', workers, maxHeapMb: heap === 0 ? undefined : heap }
  }
  const ng = hostPort(env.get('RTPENGINE_NG') ?? '127.0.0.1:2223', 'RTPENGINE_NG')
  return {
    engine: 'rtpengine',
    ng,
    innerAddress: ng.host,
    commandTimeoutMs: env.get('RTPENGINE_TIMEOUT_MS') ?? 3000,
  }
}

export const mediaEngineChoice = engineChoice()

export default mediaConfig
