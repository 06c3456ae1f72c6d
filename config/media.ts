import env from '#start/env'
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
}

export default mediaConfig
