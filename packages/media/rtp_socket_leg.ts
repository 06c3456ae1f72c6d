import dgram from 'node:dgram'
import { isIP } from 'node:net'
import { randomInt } from 'node:crypto'
import OutboundRtpStream from '#media/outbound_rtp_stream'
import ReceptionStats from '#media/reception_stats'
import {
  NATIVE_SRTP_PROFILES,
  NativeLegState,
  handOver,
  type NativePacketPath,
  type ReceptionView,
} from '#media/native_packet_path'
import RtcpSession, { SYSTEM_RTCP_CLOCK, type RtcpClock } from '#media/rtcp_session'
import { PacketKind, isRtcp, rtpPayloadOffset } from '#media/rtp_header'
import type { PacketReceiver, RelayLeg } from '#media/relay_leg'
import SdesNegotiation, {
  AUTH_FAILED,
  NOT_RTP,
  type SdesReceiver,
} from '#media/sdp/sdes_negotiation'
import type { SdesKey, SdesSuite } from '#media/sdp/sdes_crypto'
import type { SrtpContext } from '#media/srtp_context'
import {
  buildAudioSdp,
  canReceive,
  canSend,
  chooseAudioCodec,
  ourDirection,
  parseAudioSdp,
  peerHolds,
  telephoneEvent8000,
  type AudioDescription,
} from '#media/sdp/audio_sdp'
import {
  CODEC_CLOCK_RATES,
  MediaNegotiationError,
  type AnswerOptions,
  type AudioCodecName,
  type LegQuality,
  type MediaDirection,
  type MediaLegStats,
  type NegotiatedMedia,
  type OfferOptions,
  type RtpLeg,
} from '#media/types'
import LegCounters from '#media/leg_counters'

/** The payload types we offer: G.711 static (RFC 3551), Opus dynamic (the browsers' 111). */
const OFFER_PT: Record<AudioCodecName, number> = { PCMU: 0, PCMA: 8, opus: 111 }
const DTMF_PT = 101

export interface RtpSocketLegOptions {
  port: number
  bindAddress: string
  announcedIp: string
  latching: boolean
  /** SDES-SRTP (RFC 4568) required: RTP/SAVP with a=crypto keys, plain RTP refused. */
  srtp?: boolean
  /** Called once when the leg closes (gives the port back to the pool). */
  onClosed?: () => void
  /**
   * RTCP reports (RFC 3550; SRTCP on SDES legs), on the odd port above `port` or, with
   * a=rtcp-mux, on the RTP port: the clock and interval are seams for tests. False: no RTCP.
   */
  rtcp?: { clock?: RtcpClock; intervalMs?: number } | false
  /**
   * The C++ packet path (native_packet_path.ts) for this leg's RTP; null or absent: TypeScript.
   * SDES-SRTP legs keep the TypeScript path (their keys live in SdesNegotiation).
   */
  packetPath?: NativePacketPath | null
}

/** dgram resolves even IP literals through dns.lookup on a later tick; our peers are IPs. */
function literalLookup(
  address: string,
  _family: unknown,
  callback: (error: Error | null, address: string, family: number) => void
) {
  callback(null, address, isIP(address) === 6 ? 6 : 4)
}

/**
 * An RTP leg towards a carrier or a SIP phone: one UDP socket, symmetric RTP (we send from
 * the port we receive on), packets accepted only from the address and port the peer signalled,
 * or, with latching, from the signalled IP on any port, after which we send to that port.
 * With `srtp` the leg speaks SDES-SRTP only (RTP/SAVP, our SrtpContext); without it, plain
 * RTP/AVP only, and crypto lines in a peer's SDP are never used. RTCP (RFC 3550): we send
 * SR/RR + SDES CNAME about every 5 s from the odd port (or the RTP port with a=rtcp-mux) and read
 * the peer's reports for the round-trip time; on SDES-SRTP legs both ways as SRTCP (RFC 3711 §3.4).
 */
export default class RtpSocketLeg implements RtpLeg, RelayLeg {
  readonly kind = 'rtp' as const
  readonly localPort: number
  /** The TypeScript packet path's counters (the native path keeps its own). */
  #counters = new LegCounters()
  negotiated: NegotiatedMedia | null = null

  #socket: dgram.Socket
  /** The RTCP socket on port + 1 (plain legs with RTCP; null otherwise). */
  #rtcpSocket: dgram.Socket | null
  #rtcp: RtcpSession | null = null
  #rtcpMux = false
  #remoteRtcpPort = 0
  #octetsSent = 0
  #announcedIp: string
  #latching: boolean
  #onClosed?: () => void
  #closeListeners: (() => void)[] = []
  #closed = false
  #sdes: SdesNegotiation | null
  /** Loss and jitter of the RTP we accept (TypeScript packet path). */
  #reception = new ReceptionStats()
  #packetPath: NativePacketPath | null = null
  /** The leg in the C++ packet path, which reads the RTP socket; null: TypeScript reads it. */
  #native: NativeLegState | null = null
  /** SRTP packets from the signalled address that failed authentication (TypeScript path). */
  #authenticationFailures = 0
  /** The SDES contexts the C++ path was last given keys for (new objects: new keys, new state). */
  #nativeInbound: SdesReceiver | null = null
  #nativeOutbound: SrtpContext | null = null
  /** SRTCP packets from the peer's address that failed authentication or were replayed. */
  rtcpAuthenticationFailures = 0

  /** Where packets may come from; stays set during c=0.0.0.0 hold (the peer may still send). */
  #acceptIp: string | null = null
  #remotePort = 0
  #signalledPort = 0
  #latched = false
  #sendAllowed = false
  #receiveExpected = false
  #peerHolds = false
  /** Payload types we send with (the peer's numbering) and receive with (ours). */
  #clockRate = 8000
  #sendAudioPt = -1
  #sendDtmfPt = -1
  #recvAudioPt = -1
  #recvDtmfPt = -1

  #receiver: PacketReceiver | null = null
  #outbound: OutboundRtpStream
  #sessionId = String(randomInt(1, 2 ** 47))
  #version = 0
  #pendingOffer: {
    audio: { codec: AudioCodecName; payloadType: number }[]
    dtmf: boolean
    direction: MediaDirection
  } | null = null

  private constructor(
    socket: dgram.Socket,
    rtcpSocket: dgram.Socket | null,
    options: RtpSocketLegOptions
  ) {
    this.#socket = socket
    this.#rtcpSocket = rtcpSocket
    const rtcp = options.rtcp === false ? null : (options.rtcp ?? {})
    const clock = rtcp?.clock ?? SYSTEM_RTCP_CLOCK
    this.#outbound = new OutboundRtpStream(undefined, () => clock.now())
    this.#latching = options.latching
    this.#sdes = options.srtp ? new SdesNegotiation() : null
    // Decided before the RTCP session, which reads this leg's reception (C++ or TypeScript)
    const packetPath = options.packetPath ?? null
    if (packetPath !== null) {
      const leg = packetPath.createLeg(this.#onNativeOther)
      if (handOver(packetPath, leg, socket, true)) {
        this.#packetPath = packetPath
        this.#native = new NativeLegState(packetPath, leg)
        this.#configureNative()
      } else {
        packetPath.closeLeg(leg)
      }
    }
    if (rtcp) {
      this.#rtcp = new RtcpSession({
        cname: `${this.#sessionId}@fluffycall`,
        reception: this.reception,
        clock,
        intervalMs: rtcp.intervalMs,
        sent: () => {
          const native = this.#native
          return {
            ssrc: this.#outbound.ssrc,
            packets: native ? native.packetsSent : this.#counters.packetsSent,
            octets: native ? native.octetsSent : this.#octetsSent,
            lastTimestamp: native ? native.lastTimestamp : this.#outbound.lastTimestamp,
            lastSentAt: native ? native.lastSentAt : this.#outbound.lastSentAt,
            clockRate: this.#clockRate,
          }
        },
        transmit: (packet) => this.#transmitRtcp(packet),
      })
      rtcpSocket?.on('message', this.#onRtcpMessage)
      rtcpSocket?.on('error', () => {})
    }
    this.localPort = options.port
    this.#announcedIp = options.announcedIp
    this.#onClosed = options.onClosed
    socket.on('message', this.#onMessage)
    // A late ICMP error or a send to an unreachable peer must not crash the process
    socket.on('error', () => {})
  }

  get stats(): MediaLegStats {
    return this.#native?.stats ?? this.#counters
  }

  /** Loss and jitter of the RTP we accept (the engine's counters read it). */
  get reception(): ReceptionView {
    return this.#native?.reception ?? this.#reception
  }

  /** SRTP packets from the signalled address that failed authentication (also in packetsRejected). */
  get authenticationFailures(): number {
    return this.#native?.authenticationFailures ?? this.#authenticationFailures
  }

  /** The leg's id in the C++ packet path; 0 while RTP runs in TypeScript. */
  get nativeLeg(): number {
    return this.#native?.leg ?? 0
  }

  get nativeRelayed(): number {
    return this.#native?.relayed ?? 0
  }

  /** What the C++ path reads and sends by: the peer, latching, payload types, direction. */
  #configureNative() {
    const native = this.#native
    if (native === null) return
    const packetPath = this.#packetPath!
    // SDES: no RTP before the keys (-1); keys only when SdesNegotiation made new contexts, so a
    // re-offer that keeps them keeps the rollover state in C++ as it does in TypeScript
    const sdes = this.#sdes
    let receiveProfile = 0
    let sendProfile = 0
    let inbound: SdesKey | null = null
    let outbound: SdesKey | null = null
    let mki: Buffer | null = null
    if (sdes !== null) {
      const suite = sdes.suite
      receiveProfile = sdes.inbound && suite ? NATIVE_SRTP_PROFILES[suite] : -1
      sendProfile = sdes.outbound && suite ? NATIVE_SRTP_PROFILES[suite] : -1
      if (sdes.inbound !== null && sdes.inbound !== this.#nativeInbound) {
        this.#nativeInbound = sdes.inbound
        inbound = sdes.inbound.key
        mki = sdes.inbound.mki
      }
      if (sdes.outbound !== null && sdes.outbound !== this.#nativeOutbound) {
        this.#nativeOutbound = sdes.outbound
        outbound = sdes.outboundKey
      }
    }
    packetPath.configureReceive(
      native.leg,
      true,
      this.#acceptIp ?? '',
      this.#remotePort,
      this.#latching,
      receiveProfile,
      inbound?.masterKey ?? null,
      inbound?.masterSalt ?? null,
      this.#recvAudioPt,
      this.#recvDtmfPt,
      this.#clockRate,
      mki
    )
    packetPath.configureSend(
      native.leg,
      this.#sendAllowed && !this.#closed,
      sendProfile,
      outbound?.masterKey ?? null,
      outbound?.masterSalt ?? null,
      this.#sendAudioPt,
      this.#sendDtmfPt,
      this.#clockRate,
      this.#outbound.ssrc
    )
  }

  /** The port the C++ path latched to, once it did (RTCP follows it). */
  #syncLatch() {
    const native = this.#native
    if (native === null || this.#latched || !this.#latching || !native.latched) return
    this.#latched = true
    this.#remotePort = native.peerPort
  }

  /** What the C++ path does not take: (S)RTCP multiplexed on the RTP port; the rest is dropped. */
  #onNativeOther = (packet: Buffer, address: string, port: number) => {
    if (address !== this.#acceptIp) return
    this.#syncLatch()
    if (port !== this.#remotePort || packet.length < 8 || !isRtcp(packet)) return
    if (this.#sdes !== null) this.#receiveSrtcp(packet, packet.length)
    else this.#rtcp?.receive(packet, packet.length)
  }

  /** Binds the socket (and the RTCP one on port + 1); rejects when a port is taken. */
  static async open(options: RtpSocketLegOptions): Promise<RtpSocketLeg> {
    const family = isIP(options.bindAddress) === 6 ? 'udp6' : 'udp4'
    const bind = async (port: number) => {
      const socket = dgram.createSocket({ type: family, lookup: literalLookup as never })
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject)
        socket.bind(port, options.bindAddress, () => {
          socket.off('error', reject)
          resolve()
        })
      }).catch((error) => {
        socket.close()
        throw error
      })
      return socket
    }
    const socket = await bind(options.port)
    let rtcpSocket: dgram.Socket | null = null
    if (options.rtcp !== false) {
      try {
        rtcpSocket = await bind(options.port + 1)
      } catch (error) {
        socket.close()
        throw error
      }
    }
    return new RtpSocketLeg(socket, rtcpSocket, options)
  }

  /** Loss and jitter of what we receive, round-trip time from the peer's reports. */
  get quality(): LegQuality {
    return {
      packetsExpected: this.reception.expected,
      packetsLost: this.reception.lost,
      lossFraction: this.reception.lossFraction,
      jitterMs: this.reception.jitterMs,
      rttMs: this.#rtcp?.rttMs ?? null,
      rtcpSent: this.#rtcp?.reportsSent ?? 0,
      rtcpReceived: this.#rtcp?.reportsReceived ?? 0,
    }
  }

  /** Our compound RTCP to the peer: to its RTP port with rtcp-mux, else to its RTCP port. */
  #transmitRtcp(compound: Buffer): boolean {
    this.#syncLatch()
    const ip = this.#acceptIp
    if (this.#closed || ip === null || this.#remotePort === 0) return false
    const packet = this.#sdes === null ? compound : this.#sdes.protectRtcp(compound)
    if (packet === null) return false
    if (this.#rtcpMux) this.#socket.send(packet, this.#remotePort, ip)
    else if (this.#rtcpSocket) this.#rtcpSocket.send(packet, this.#remoteRtcpPort, ip)
    else return false
    return true
  }

  /** RTCP on port + 1: only from the peer's signalled IP. */
  #onRtcpMessage = (packet: Buffer, rinfo: dgram.RemoteInfo) => {
    if (rinfo.address !== this.#acceptIp) return
    if (this.#sdes === null) this.#rtcp?.receive(packet)
    else this.#receiveSrtcp(packet, packet.length)
  }

  /** SRTCP with the peer's key; a forged or replayed report is counted and dropped. */
  #receiveSrtcp(packet: Buffer, length: number) {
    const inbound = this.#sdes?.inbound
    if (!inbound || !this.#rtcp || length < 8 || !isRtcp(packet)) return
    const plain = inbound.unprotectRtcp(packet, length)
    if (plain < 0) this.rtcpAuthenticationFailures++
    else this.#rtcp.receive(packet, plain)
  }

  get closed() {
    return this.#closed
  }

  get expectsMedia() {
    return this.#receiveExpected && !this.#closed
  }

  get peerHolds() {
    return this.#peerHolds
  }

  /** The SDES suite in use; null on a plain leg or before the negotiation. */
  get srtpSuite(): SdesSuite | null {
    return this.#sdes?.suite ?? null
  }

  #onMessage = (packet: Buffer, rinfo: dgram.RemoteInfo) => {
    if (rinfo.address !== this.#acceptIp) {
      this.#counters.packetsRejected++
      return
    }
    if (rinfo.port !== this.#remotePort) {
      if (!this.#latching || this.#latched) {
        this.#counters.packetsRejected++
        return
      }
    }
    let length = packet.length
    if (this.#sdes !== null) {
      const srtp = this.#sdes.inbound
      if (srtp === null) return
      length = srtp.unprotect(packet, length)
      // SRTCP multiplexed on the RTP port (RFC 5761)
      if (length === NOT_RTP) return this.#receiveSrtcp(packet, packet.length)
      if (length === AUTH_FAILED) {
        this.#authenticationFailures++
        this.#counters.packetsRejected++
      }
      if (length < 0) return
    }
    // Latch only to a packet that passed authentication: a forged one must not steal the stream
    if (this.#latching && !this.#latched) {
      this.#remotePort = rinfo.port
      this.#latched = true
    }
    const offset = rtpPayloadOffset(packet, length)
    if (offset < 0) {
      // RTCP multiplexed on the RTP port (RFC 5761); SRTCP was handled above
      if (this.#rtcp && length >= 8 && isRtcp(packet)) this.#rtcp.receive(packet, length)
      return
    }
    this.#counters.packetsReceived++
    this.#reception.packet(packet)
    const pt = packet[1] & 0x7f
    const receiver = this.#receiver
    if (receiver === null) return
    if (pt === this.#recvAudioPt) receiver(packet, length, offset, PacketKind.Audio)
    else if (pt === this.#recvDtmfPt) receiver(packet, length, offset, PacketKind.Dtmf)
  }

  setReceiver(receiver: PacketReceiver | null) {
    this.#receiver = receiver
    if (this.#native) this.#packetPath!.setRtpHandler(this.#native.leg, receiver)
  }

  sendRelayed(packet: Buffer, length: number, payloadOffset: number, kind: PacketKind): boolean {
    if (this.#native)
      return this.#packetPath!.send(this.#native.leg, packet, length, payloadOffset, kind)
    if (!this.#sendAllowed) return false
    const pt = kind === PacketKind.Audio ? this.#sendAudioPt : this.#sendDtmfPt
    if (pt < 0) return false
    const srtp = this.#sdes === null ? null : this.#sdes.outbound
    if (this.#sdes !== null && srtp === null) return false
    packet[1] = (packet[1] & 0x80) | pt
    this.#outbound.rewrite(packet, kind === PacketKind.Audio)
    if (srtp) {
      const encrypted = srtp.protect(packet, length, payloadOffset)
      this.#socket.send(
        encrypted,
        0,
        encrypted.length,
        this.#remotePort,
        this.#acceptIp!,
        this.#counters.sent
      )
    } else {
      this.#socket.send(packet, 0, length, this.#remotePort, this.#acceptIp!, this.#counters.sent)
    }
    this.#octetsSent += length - payloadOffset
    return true
  }

  restartOutboundSource() {
    this.#outbound.restart()
    if (this.#native) this.#packetPath!.restart(this.#native.leg)
  }

  onClose(listener: () => void) {
    this.#closeListeners.push(listener)
  }

  async answer(offerSdp: string, options: AnswerOptions) {
    this.#assertOpen()
    const offer = this.#readPeerSdp(offerSdp)
    const chosen = chooseAudioCodec(offer, options.codecs)
    if (!chosen) {
      throw new MediaNegotiationError(
        `No common audio codec (offered ${offer.payloadTypes.join(' ')}, allowed ${options.codecs.join(', ')})`
      )
    }
    const dtmfPt = options.dtmf === false ? null : telephoneEvent8000(offer)
    const direction = ourDirection(offer, options.direction)
    // Last fallible step: a refused offer leaves the leg as it was
    const sdes = this.#sdes?.answer(offer)
    sdes?.commit()
    // rtcp-mux only where we run RTCP: answering it promises RTCP on the RTP port
    const mux = offer.rtcpMux && this.#rtcp !== null
    const media = this.#apply(offer, chosen, chosen.payloadType, dtmfPt, dtmfPt, direction, mux)
    const sdp = buildAudioSdp({
      sessionId: this.#sessionId,
      version: this.#version++,
      address: this.#announcedIp,
      port: this.localPort,
      audio: [chosen],
      dtmfPayloadType: dtmfPt,
      direction,
      crypto: sdes ? [sdes.attribute] : undefined,
      rtcpMux: mux,
    })
    return { sdp, media }
  }

  async createOffer(options: OfferOptions) {
    this.#assertOpen()
    if (options.codecs.length === 0)
      throw new MediaNegotiationError('An offer needs at least one audio codec')
    const audio = options.codecs.map((codec) => ({ codec, payloadType: OFFER_PT[codec] }))
    const dtmf = options.dtmf !== false
    const direction = options.direction ?? 'sendrecv'
    this.#pendingOffer = { audio, dtmf, direction }
    return buildAudioSdp({
      sessionId: this.#sessionId,
      version: this.#version++,
      address: this.#announcedIp,
      port: this.localPort,
      audio,
      dtmfPayloadType: dtmf ? DTMF_PT : null,
      direction,
      crypto: this.#sdes?.offer(),
    })
  }

  async applyAnswer(answerSdp: string) {
    this.#assertOpen()
    const offer = this.#pendingOffer
    if (!offer) throw new MediaNegotiationError('No offer of ours is waiting for an answer')
    const answer = this.#readPeerSdp(answerSdp)
    const chosen = chooseAudioCodec(
      answer,
      offer.audio.map((entry) => entry.codec)
    )
    if (!chosen)
      throw new MediaNegotiationError('The answer has none of the audio codecs we offered')
    const ours = offer.audio.find((entry) => entry.codec === chosen.codec)!
    const dtmfPt = offer.dtmf ? telephoneEvent8000(answer) : null
    const direction = ourDirection(answer, offer.direction)
    const commitSdes = this.#sdes?.applyAnswer(answer)
    this.#pendingOffer = null
    commitSdes?.()
    return this.#apply(
      answer,
      chosen,
      ours.payloadType,
      dtmfPt,
      dtmfPt === null ? null : DTMF_PT,
      direction,
      false
    )
  }

  async ready() {}

  async close() {
    if (this.#closed) return
    // A last report with BYE while the sockets are still open (RFC 3550 §6.6)
    this.#rtcp?.stop(true)
    this.#closed = true
    this.#receiver = null
    this.#sendAllowed = false
    // The addon lets go of its copy of the socket before the socket closes
    this.#native?.close()
    const rtcpSocket = this.#rtcpSocket
    if (rtcpSocket) await new Promise<void>((resolve) => rtcpSocket.close(() => resolve()))
    await new Promise<void>((resolve) => this.#socket.close(() => resolve()))
    this.#onClosed?.()
    for (const listener of this.#closeListeners.splice(0)) listener()
  }

  #assertOpen() {
    if (this.#closed) throw new MediaNegotiationError('This media leg is closed')
  }

  #readPeerSdp(sdp: string): AudioDescription {
    const description = parseAudioSdp(sdp)
    if (description.port === 0)
      throw new MediaNegotiationError('The audio stream was rejected (port 0)')
    const wanted = this.#sdes ? 'RTP/SAVP' : 'RTP/AVP'
    if (description.protocol !== wanted) {
      throw new MediaNegotiationError(
        this.#sdes
          ? `This leg requires SDES-SRTP (RTP/SAVP with a=crypto), the peer sent ${description.protocol}`
          : description.protocol.includes('SAVP')
            ? `Secure RTP (${description.protocol}) is not enabled on this leg (SDES needs srtp: 'sdes' over TLS)`
            : `Unsupported media transport ${description.protocol}`
      )
    }
    if (!isIP(description.address)) {
      throw new MediaNegotiationError(
        `The connection address must be an IP address, got "${description.address}"`
      )
    }
    return description
  }

  #apply(
    peer: AudioDescription,
    chosen: { codec: AudioCodecName; payloadType: number },
    recvAudioPt: number,
    sendDtmfPt: number | null,
    recvDtmfPt: number | null,
    direction: MediaDirection,
    rtcpMux: boolean
  ): NegotiatedMedia {
    this.#syncLatch()
    if (!peer.holdAddress) {
      // A re-offer to the same address keeps a latched port; a new address starts over
      const moved = peer.address !== this.#acceptIp || peer.port !== this.#signalledPort
      this.#acceptIp = peer.address
      this.#signalledPort = peer.port
      if (moved || !this.#latched) {
        this.#remotePort = peer.port
        this.#latched = false
      }
    }
    this.#rtcpMux = rtcpMux
    this.#remoteRtcpPort = peer.rtcpPort ?? peer.port + 1
    this.#sendAudioPt = chosen.payloadType
    this.#clockRate = CODEC_CLOCK_RATES[chosen.codec]
    this.#outbound.setClockRate(this.#clockRate)
    this.#reception.setClockRate(this.#clockRate)
    this.#recvAudioPt = recvAudioPt
    this.#sendDtmfPt = sendDtmfPt ?? -1
    this.#recvDtmfPt = recvDtmfPt ?? -1
    this.#sendAllowed = canSend(direction) && !peer.holdAddress && this.#acceptIp !== null
    this.#receiveExpected = canReceive(direction)
    this.#peerHolds = peerHolds(peer)
    this.negotiated = {
      audio: { codec: chosen.codec, payloadType: chosen.payloadType },
      dtmf: sendDtmfPt === null ? null : { payloadType: sendDtmfPt },
      direction,
    }
    this.#configureNative()
    this.#rtcp?.start()
    return this.negotiated
  }
}
