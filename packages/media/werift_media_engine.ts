import { isIP } from 'node:net'
import { networkInterfaces } from 'node:os'
import { getHostAddresses } from 'werift'
import EchoSession from '#media/echo_session'
import MediaRelayBridge from '#media/media_relay_bridge'
import MediaEngineStats from '#media/media_engine_stats'
import { useNativeX25519 } from '#media/native_x25519'
import { loadNativePacketPath, type NativePacketPath } from '#media/native_packet_path'
import PortPool from '#media/port_pool'
import { asRelayLeg, type RelayLeg } from '#media/relay_leg'
import RtpSocketLeg from '#media/rtp_socket_leg'
import WeriftWebRtcLeg from '#media/werift_webrtc_leg'
import {
  MediaCapacityError,
  type BridgeOptions,
  type LegLossReason,
  type MediaBridge,
  type MediaEngine,
  type MediaEngineConfig,
  type MediaLeg,
  type RelayTap,
  type RtpLeg,
  type RtpLegOptions,
  type WebRtcLeg,
} from '#media/types'

/** How often a leg is retried on another port when a port is held by some other process. */
const BIND_ATTEMPTS = 8

/** Checks the config once, with messages that name the setting (fails at boot, not mid-call). */
export function validateMediaConfig(config: MediaEngineConfig) {
  if (config.announcedIps.length === 0)
    throw new Error('MEDIA_ANNOUNCED_IPS: at least one IP address is needed')
  for (const ip of config.announcedIps) {
    if (!isIP(ip)) throw new Error(`MEDIA_ANNOUNCED_IPS: "${ip}" is not an IP address`)
  }
  for (const [name, range] of [
    ['MEDIA_WEBRTC_PORTS', config.webrtcPorts],
    ['MEDIA_RTP_PORTS', config.rtpPorts],
  ] as const) {
    const [first, last] = range
    if (
      !Number.isInteger(first) ||
      !Number.isInteger(last) ||
      first < 1024 ||
      last > 65535 ||
      first >= last
    ) {
      throw new Error(`${name}: "${first}-${last}" is not a port range within 1024-65535`)
    }
  }
  if (config.webrtcPorts[0] <= config.rtpPorts[1] && config.rtpPorts[0] <= config.webrtcPorts[1]) {
    throw new Error('MEDIA_WEBRTC_PORTS and MEDIA_RTP_PORTS overlap')
  }
  if (!(config.mediaTimeoutSeconds > 0))
    throw new Error('MEDIA_TIMEOUT_SECONDS must be a positive number')
}

function localAddresses(): Set<string> {
  const addresses = new Set<string>()
  for (const list of Object.values(networkInterfaces())) {
    for (const entry of list ?? []) addresses.add(entry.address)
  }
  return addresses
}

/**
 * The media engine of one process: werift WebRTC legs, plain RTP legs, bridges and echoes. Port
 * blocks come from two pools that never overlap and go back when a leg closes.
 */
export default class WeriftMediaEngine implements MediaEngine {
  readonly config: MediaEngineConfig
  #rtpPorts: PortPool
  #webrtcPorts: PortPool
  #rtpBindAddress: string
  #legs = new Set<RelayLeg>()
  #bridges = new Set<MediaRelayBridge>()
  #echoes = new Set<EchoSession>()
  /** Test taps on every bridge, open and future (tapRelays). */
  #taps = new Set<RelayTap>()
  #lost = new Set<(leg: MediaLeg, reason: LegLossReason) => void>()
  /** Legs, bridges, packets, loss and jitter of this engine (plain counters, for metrics). */
  readonly counters = new MediaEngineStats()
  /** The C++ packet path the legs use; null: TypeScript (configured so, or not built). */
  readonly packetPath: NativePacketPath | null

  constructor(config: MediaEngineConfig) {
    validateMediaConfig(config)
    this.packetPath = config.packetPath === 'typescript' ? null : loadNativePacketPath()
    // werift's DTLS key agreement on node:crypto's X25519 instead of tweetnacl's JavaScript
    useNativeX25519()
    this.config = config
    // RTP and RTCP port pairs (RFC 3550 §11): even ports, the odd one stays reserved
    this.#rtpPorts = new PortPool(config.rtpPorts, 2)
    // werift opens one ICE socket per host address; one block holds them all (plus one, as
    // werift refuses a range of one port)
    const hosts = new Set([
      ...getHostAddresses(
        true,
        config.announcedIps.some((ip) => isIP(ip) === 6)
      ),
      ...config.announcedIps,
    ])
    this.#webrtcPorts = new PortPool(config.webrtcPorts, hosts.size + 1)
    // An announced address may be a NAT's public one that is not on this machine
    const primary = config.announcedIps[0]
    this.#rtpBindAddress = localAddresses().has(primary)
      ? primary
      : isIP(primary) === 6
        ? '::'
        : '0.0.0.0'
  }

  get openLegs() {
    return this.#legs.size
  }

  async createWebRtcLeg(): Promise<WebRtcLeg> {
    const start = this.#webrtcPorts.acquire()
    if (start === null)
      throw new MediaCapacityError(
        'webrtc_ports',
        'No free WebRTC ports (MEDIA_WEBRTC_PORTS is exhausted)'
      )
    const leg: WeriftWebRtcLeg = new WeriftWebRtcLeg({
      announcedIps: this.config.announcedIps,
      portRange: [start, start + this.#webrtcPorts.blockSize - 1],
      onClosed: () => {
        this.#webrtcPorts.release(start)
        this.#legs.delete(leg)
        this.counters.closed(leg)
      },
      onFailed: () => {
        for (const listener of this.#lost) listener(leg, 'connection_failed')
      },
      packetPath: this.packetPath,
    })
    this.#legs.add(leg)
    this.counters.opened(leg)
    return leg
  }

  /**
   * `listener` hears of every WebRTC leg whose connection failed while open (see
   * WeriftWebRtcLegOptions.onFailed): the B2BUA ends the call that held it at once instead of
   * by the media timeout, and a held call (which has no media timeout) ends too.
   */
  onLegLost(listener: (leg: MediaLeg, reason: LegLossReason) => void): () => void {
    this.#lost.add(listener)
    return () => this.#lost.delete(listener)
  }

  async createRtpLeg(options: RtpLegOptions = {}): Promise<RtpLeg> {
    let lastError: unknown
    for (let attempt = 0; attempt < BIND_ATTEMPTS; attempt++) {
      const port = this.#rtpPorts.acquire()
      if (port === null) break
      try {
        const leg: RtpSocketLeg = await RtpSocketLeg.open({
          port,
          bindAddress: this.#rtpBindAddress,
          announcedIp: this.config.announcedIps[0],
          latching: options.latching ?? false,
          srtp: options.srtp ?? false,
          packetPath: this.packetPath,
          onClosed: () => {
            this.#rtpPorts.release(port)
            this.#legs.delete(leg)
            this.counters.closed(leg)
          },
        })
        this.#legs.add(leg)
        this.counters.opened(leg)
        return leg
      } catch (error) {
        // Taken by another process: the pool's cursor moves on, so the next try gets another pair
        this.#rtpPorts.release(port)
        lastError = error
      }
    }
    throw new MediaCapacityError('rtp_ports', 'No free RTP port (MEDIA_RTP_PORTS is exhausted)', {
      cause: lastError,
    })
  }

  bridge(a: MediaLeg, b: MediaLeg, options: Partial<BridgeOptions> = {}): MediaBridge {
    const bridge = new MediaRelayBridge(asRelayLeg(a), asRelayLeg(b), {
      mediaTimeoutSeconds: options.mediaTimeoutSeconds ?? this.config.mediaTimeoutSeconds,
    })
    this.#bridges.add(bridge)
    for (const tap of this.#taps) bridge.tap(tap)
    this.counters.bridges = this.#bridges.size
    const close = bridge.close.bind(bridge)
    bridge.close = () => {
      this.#bridges.delete(bridge)
      this.counters.bridges = this.#bridges.size
      close()
    }
    bridge.onEnded(() => {
      this.#bridges.delete(bridge)
      this.counters.bridges = this.#bridges.size
    })
    return bridge
  }

  /**
   * Tests only: `listener` sees the packets every bridge of this engine relays (open ones and
   * those created later), payloads after SRTP decryption. Returns the function that removes it.
   */
  tapRelays(listener: RelayTap): () => void {
    this.#taps.add(listener)
    for (const bridge of this.#bridges) bridge.tap(listener)
    return () => {
      this.#taps.delete(listener)
      for (const bridge of this.#bridges) bridge.untap(listener)
    }
  }

  echo(leg: MediaLeg): { close(): void } {
    const session: EchoSession = new EchoSession(asRelayLeg(leg), 200, () =>
      this.#echoes.delete(session)
    )
    this.#echoes.add(session)
    return session
  }

  async close() {
    for (const bridge of [...this.#bridges]) bridge.close()
    for (const echo of [...this.#echoes]) echo.close()
    await Promise.all([...this.#legs].map((leg) => leg.close()))
  }
}
