import dgram from 'node:dgram'
import { once } from 'node:events'
import {
  RTCPeerConnection,
  RTCRtpCodecParameters,
  RtpHeader,
  RtpPacket,
  type RTCDtlsTransport,
  type RTCRtpTransceiver,
} from 'werift'
import WeriftMediaEngine from '#media/werift_media_engine'
import WorkerMediaEngine from '#media/worker/worker_media_engine'
import type { MediaEngine, MediaEngineConfig } from '#media/types'
import { mediaEngineChoice } from '#config/media'

/**
 * Test peers for the media engine, in the test's own process: a werift RTCPeerConnection playing
 * the browser (it offers what Chromium offers: opus, PCMU, PCMA, telephone-event at 48000 and
 * 8000 Hz) and a plain UDP socket playing the carrier. Loopback only.
 */

export interface SeenPacket {
  payloadType: number
  sequenceNumber: number
  timestamp: number
  ssrc: number
  marker: boolean
  payload: Buffer
}

const codec = (mimeType: string, clockRate: number, payloadType: number, channels = 1) =>
  new RTCRtpCodecParameters({ mimeType, clockRate, payloadType, channels })

/**
 * The engine the test environment runs (MEDIA_WORKERS): in worker processes (at most 2) or in
 * this one, on the test's own port ranges. A call's second leg goes `near` its first, as the
 * B2BUA places it: one worker, one bridge (tests/e2e/media/media_workers.spec.ts covers two).
 */
export function configuredEngine(config: MediaEngineConfig): MediaEngine {
  const workers = mediaEngineChoice.engine === 'builtin' ? mediaEngineChoice.workers : 0
  return workers > 0
    ? new WorkerMediaEngine({ ...config, workers: Math.min(workers, 2) })
    : new WeriftMediaEngine(config)
}

/** With the media in workers: what was set up (a bridge, an echo, a tap) is in place before a test's next packet. */
export async function settled(engine: MediaEngine) {
  if (engine instanceof WorkerMediaEngine) await engine.settled()
}

export const BROWSER_PT = { opus: 111, PCMU: 0, PCMA: 8, dtmf48k: 110, dtmf8k: 126 }

export async function waitFor(condition: () => boolean, timeoutMs = 3000, what = 'condition') {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** The browser's SDP with its certificate fingerprint changed: DTLS cannot be verified. */
export function forgedFingerprint(sdp: string): string {
  const forged = sdp.replace(
    /(a=fingerprint:sha-256 )([0-9A-F]{2})/i,
    (_, head: string, byte: string) => head + (byte.toUpperCase() === '00' ? '01' : '00')
  )
  if (forged === sdp) throw new Error('no sha-256 fingerprint in the browser SDP')
  return forged
}

export class FakeBrowser {
  readonly pc: RTCPeerConnection
  readonly received: SeenPacket[] = []
  #transceiver: RTCRtpTransceiver | null = null
  #seq = 1000
  #ssrc = 0x0b0b0b0b
  #subscribed = false

  /** `opusPt`: another browser's number for Opus (Firefox writes 109, Chromium 111). */
  constructor(options: { opusPt?: number } = {}) {
    this.pc = new RTCPeerConnection({
      iceServers: [],
      iceAdditionalHostAddresses: ['127.0.0.1'],
      iceUseIpv6: false,
      codecs: {
        audio: [
          codec('audio/opus', 48000, options.opusPt ?? BROWSER_PT.opus, 2),
          codec('audio/PCMU', 8000, BROWSER_PT.PCMU),
          codec('audio/PCMA', 8000, BROWSER_PT.PCMA),
          codec('audio/telephone-event', 48000, BROWSER_PT.dtmf48k),
          codec('audio/telephone-event', 8000, BROWSER_PT.dtmf8k),
        ],
      },
    })
  }

  async #localSdp() {
    if (this.pc.iceGatheringState !== 'complete') {
      await new Promise<void>((resolve) =>
        this.pc.iceGatheringStateChange.subscribe((state) => state === 'complete' && resolve())
      )
    }
    return this.pc.localDescription!.sdp
  }

  async offer(direction: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive' = 'sendrecv') {
    if (!this.#transceiver) this.#transceiver = this.pc.addTransceiver('audio', { direction })
    else this.#transceiver.setDirection(direction)
    await this.pc.setLocalDescription(await this.pc.createOffer())
    return this.#localSdp()
  }

  async acceptAnswer(sdp: string) {
    await this.pc.setRemoteDescription({ type: 'answer', sdp })
    this.#listen()
  }

  /** `dtlsAfter`: the DTLS handshake waits for it (a browser on a busy machine); ICE does not. */
  async answer(offerSdp: string, options: { dtlsAfter?: Promise<unknown> } = {}) {
    await this.pc.setRemoteDescription({ type: 'offer', sdp: offerSdp })
    const gate = options.dtlsAfter
    if (gate) {
      const dtls = this.#dtls
      const start = dtls.start.bind(dtls)
      dtls.start = async () => {
        await gate
        return start()
      }
    }
    this.#transceiver = this.pc.getTransceivers()[0]
    this.#transceiver.setDirection('sendrecv')
    await this.pc.setLocalDescription(await this.pc.createAnswer())
    this.#listen()
    return this.#localSdp()
  }

  /** Connected with its DTLS keys (werift's connection state alone may say so before them). */
  async connected() {
    if (this.pc.connectionState !== 'connected')
      await new Promise<void>((resolve) =>
        this.pc.connectionStateChange.subscribe((state) => state === 'connected' && resolve())
      )
    if (this.#dtls.state === 'connected') return
    await new Promise<void>((resolve) =>
      this.#dtls.onStateChange.subscribe((state) => state === 'connected' && resolve())
    )
  }

  get #dtls(): RTCDtlsTransport {
    return this.pc.dtlsTransports[0]
  }

  #listen() {
    if (this.#subscribed) return
    this.#subscribed = true
    this.#dtls.onRtp.subscribe((rtp) => {
      this.received.push({
        payloadType: rtp.header.payloadType,
        sequenceNumber: rtp.header.sequenceNumber,
        timestamp: rtp.header.timestamp,
        ssrc: rtp.header.ssrc,
        marker: rtp.header.marker,
        payload: Buffer.from(rtp.payload),
      })
    })
  }

  /** The SRTP profile werift's DTLS picked (1 = AES-CM, 7 = GCM). */
  get srtpProfile(): number {
    return (this.#dtls as unknown as { srtp: { config: { profile: number } } }).srtp.config.profile
  }

  /** Through the DTLS transport, so werift keeps our payload type (its sender would rewrite it). */
  async send(payloadType: number, payload: Buffer, timestamp = this.#seq * 160, marker = false) {
    const header = new RtpHeader({
      payloadType,
      sequenceNumber: this.#seq++ & 0xffff,
      timestamp,
      ssrc: this.#ssrc,
      marker,
    })
    await this.#dtls.sendRtp(payload, header)
  }

  async close() {
    await this.pc.close()
  }
}

export class FakeCarrier {
  readonly received: SeenPacket[] = []
  readonly socket: dgram.Socket
  seq = 500
  ssrc = 0x0c0c0c0c
  target: { address: string; port: number } | null = null

  private constructor(socket: dgram.Socket) {
    this.socket = socket
    socket.on('message', (packet) => {
      this.received.push({
        payloadType: packet[1] & 0x7f,
        marker: (packet[1] & 0x80) !== 0,
        sequenceNumber: packet.readUInt16BE(2),
        timestamp: packet.readUInt32BE(4),
        ssrc: packet.readUInt32BE(8),
        payload: Buffer.from(packet.subarray(12)),
      })
    })
  }

  static async open() {
    const socket = dgram.createSocket('udp4')
    socket.bind(0, '127.0.0.1')
    await once(socket, 'listening')
    return new FakeCarrier(socket)
  }

  get port() {
    return this.socket.address().port
  }

  /** The carrier's SDP: PCMA and PCMU static, telephone-event on 96 (not our 101). */
  sdp(options: { direction?: string; codecs?: string[]; dtmfPt?: number; address?: string } = {}) {
    const codecs = options.codecs ?? ['8', '0']
    const dtmfPt = options.dtmfPt ?? 96
    return [
      'v=0',
      'o=carrier 1 1 IN IP4 127.0.0.1',
      's=-',
      `c=IN IP4 ${options.address ?? '127.0.0.1'}`,
      't=0 0',
      `m=audio ${this.port} RTP/AVP ${codecs.join(' ')} ${dtmfPt}`,
      ...codecs.map((pt) => `a=rtpmap:${pt} ${pt === '8' ? 'PCMA' : 'PCMU'}/8000`),
      `a=rtpmap:${dtmfPt} telephone-event/8000`,
      `a=fmtp:${dtmfPt} 0-16`,
      'a=ptime:20',
      `a=${options.direction ?? 'sendrecv'}`,
      '',
    ].join('\r\n')
  }

  packet(
    payloadType: number,
    payload: Buffer,
    options: { timestamp?: number; marker?: boolean; ssrc?: number } = {}
  ) {
    const header = new RtpHeader({
      payloadType,
      sequenceNumber: this.seq++ & 0xffff,
      timestamp: options.timestamp ?? this.seq * 160,
      ssrc: options.ssrc ?? this.ssrc,
      marker: options.marker ?? false,
    })
    return new RtpPacket(header, payload).serialize()
  }

  send(
    payloadType: number,
    payload: Buffer,
    options: { timestamp?: number; marker?: boolean; ssrc?: number } = {}
  ) {
    if (!this.target) throw new Error('FakeCarrier: no target (set it from our SDP)')
    this.socket.send(
      this.packet(payloadType, payload, options),
      this.target.port,
      this.target.address
    )
  }

  /** Points the carrier at the port in our SDP. */
  useSdp(sdp: string) {
    const port = Number(/m=audio (\d+)/.exec(sdp)![1])
    const address = /c=IN IP4 (\S+)/.exec(sdp)![1]
    this.target = { address, port }
  }

  close() {
    this.socket.close()
  }
}

/** An RFC 4733 event payload: digit, end bit, volume 10, duration. */
export function dtmfPayload(event: number, end: boolean, duration: number) {
  const payload = Buffer.alloc(4)
  payload[0] = event
  payload[1] = (end ? 0x80 : 0) | 10
  payload.writeUInt16BE(duration, 2)
  return payload
}
