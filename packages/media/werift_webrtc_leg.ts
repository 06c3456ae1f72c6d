import type dgram from 'node:dgram'
import {
  RTCPeerConnection,
  RTCRtpCodecParameters,
  SrtpAuthenticationError,
  type RTCDtlsTransport,
  type RTCRtpTransceiver,
} from 'werift'
import IceConsent, { type ConsentClock, type ConsentPath } from '#media/ice_consent'
import {
  NATIVE_SRTP_PROFILES,
  NativeLegState,
  handOver,
  handBack,
  type NativePacketPath,
  type ReceptionView,
} from '#media/native_packet_path'
import OutboundRtpStream from '#media/outbound_rtp_stream'
import ReceptionStats from '#media/reception_stats'
import { PacketKind, rtpPayloadOffset } from '#media/rtp_header'
import RtcpSession from '#media/rtcp_session'
import type { PacketReceiver, RelayLeg } from '#media/relay_leg'
import {
  createSrtcpContext,
  createSrtpContext,
  SRTP_PROFILE_IDS,
  type SrtcpContext,
  type SrtpContext,
  type SrtpProfile,
} from '#media/srtp_context'
import {
  canReceive,
  canSend,
  chooseAudioCodec,
  ourDirection,
  parseAudioSdp,
  peerHolds,
  restrictAudioPayloads,
  sdpLines,
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
  type WebRtcLeg,
} from '#media/types'
import LegCounters from '#media/leg_counters'

/**
 * Our codecs with the payload types we offer; werift needs static PTs preset (its docs). Opus
 * (RFC 7587) is always opus/48000/2 in SDP; 111 is what browsers use too.
 */
const CODECS: Record<AudioCodecName | 'telephone-event', () => RTCRtpCodecParameters> = {
  'opus': () =>
    new RTCRtpCodecParameters({
      mimeType: 'audio/opus',
      clockRate: 48000,
      channels: 2,
      payloadType: 111,
      parameters: 'minptime=10;useinbandfec=1',
    }),
  'PCMU': () =>
    new RTCRtpCodecParameters({
      mimeType: 'audio/PCMU',
      clockRate: 8000,
      channels: 1,
      payloadType: 0,
    }),
  'PCMA': () =>
    new RTCRtpCodecParameters({
      mimeType: 'audio/PCMA',
      clockRate: 8000,
      channels: 1,
      payloadType: 8,
    }),
  'telephone-event': () =>
    new RTCRtpCodecParameters({
      mimeType: 'audio/telephone-event',
      clockRate: 8000,
      channels: 1,
      payloadType: 101,
    }),
}

/**
 * werift's DTLS-SRTP profile ids; AES-CM first: our transform runs it ~1.2x cheaper than GCM
 * (bench/README.md, fourth round).
 */
const SRTP_PROFILES_PREFERRED = [1, 7]

export interface WeriftWebRtcLegOptions {
  announcedIps: string[]
  /** Inclusive UDP port block reserved for this leg's ICE sockets. */
  portRange: [number, number]
  onClosed?: () => void
  /**
   * The connection failed while the leg was open: ICE found no working pair, the DTLS handshake
   * failed, or the browser stopped answering consent checks (RFC 7675, 30 s). Once per leg; a leg
   * we close ourselves never fails. No media can flow on it again (no ICE restart).
   */
  onFailed?: () => void
  /** DTLS-SRTP profiles we offer, preferred first (werift ids); a seam for the benchmark. */
  srtpProfiles?: number[]
  /** ICE consent freshness's clock and periods (RFC 7675's 5 s and 30 s); a seam for tests. */
  consent?: { clock?: ConsentClock; intervalMs?: number; timeoutMs?: number }
  /**
   * The C++ packet path (native_packet_path.ts) RTP takes once DTLS is done; null or absent: the
   * TypeScript one.
   */
  packetPath?: NativePacketPath | null
}

/** The parts of werift's ICE internals the packet path uses (not in its typings). */
interface IceSocketProtocol {
  transport?: { socket?: dgram.Socket }
}
interface IcePair {
  protocol: IceSocketProtocol
  remoteAddr: [string, number]
}
interface IceConnection {
  nominated?: IcePair
  protocols: IceSocketProtocol[]
  localUsername: string
  localPassword: string
  remoteUsername: string
  remotePassword: string
  iceControlling: boolean
  /** werift's consent freshness (private in its typings): what we replace by IceConsent. */
  tieBreaker?: unknown
  consentFresh?: boolean
  queryConsent?: () => void
  stopConsentLifecycle?: () => void
}
/** werift's SRTCP session on its DTLS transport (not in its typings): the transform we replace. */
interface WeriftSrtcpSession {
  localContext?: { srtcpSSRCStates?: Record<string, { srtcpIndex: number }> }
  encrypt(rtcp: Buffer): Buffer
  decrypt(srtcp: Buffer): Buffer
}

type SrtpConfig = {
  keys: {
    localMasterKey: Buffer
    localMasterSalt: Buffer
    remoteMasterKey: Buffer
    remoteMasterSalt: Buffer
  }
  profile: number
}

/**
 * A browser leg: werift does ICE (host candidates on the announced addresses) and the DTLS
 * handshake; once connected, RTP bypasses werift's per-packet pipeline (which rewrites payload
 * types and builds several objects per packet): we read the ICE sockets ourselves and run SRTP
 * with our own transform on the DTLS-exported keys. RTCP too: our RtcpSession (SR/RR every ~5 s,
 * the round-trip time from the browser's reports) over our SRTCP, so werift's RTCP loop never
 * starts and the browser's RTCP never enters werift. STUN (ICE consent) and DTLS stay with werift.
 */
export default class WeriftWebRtcLeg implements WebRtcLeg, RelayLeg {
  readonly kind = 'webrtc' as const
  /** The TypeScript packet path's counters (the native path keeps its own). */
  #counters = new LegCounters()
  negotiated: NegotiatedMedia | null = null
  /** Loss and jitter of the RTP the browser sends us (TypeScript packet path). */
  #reception = new ReceptionStats()
  #packetPath: NativePacketPath | null
  /** The leg in the C++ packet path once RTP went there (after DTLS); null before or without. */
  #native: NativeLegState | null = null

  #pc: RTCPeerConnection
  #announcedIps: Set<string>
  #srtpProfiles: number[]
  #onClosed?: () => void
  #onFailed?: () => void
  #failed = false
  #closeListeners: (() => void)[] = []
  #closed = false
  #transceiver: RTCRtpTransceiver | null = null
  #pendingOffer: { codecs: AudioCodecName[]; dtmf: boolean; direction: MediaDirection } | null =
    null

  #ready: Promise<void>
  #srtpIn: SrtpContext | null = null
  #srtpOut: SrtpContext | null = null
  #ice: IceConnection | null = null
  /** The nominated pair RTP last went to, and its remote address (a pair's never changes). */
  #sendPair: IcePair | null = null
  #sendAddress = ''
  #sendPort = 0
  #audioPt = -1
  #clockRate = 8000
  #dtmfPt = -1
  #direction: MediaDirection = 'inactive'
  #sendAllowed = false
  #receiveExpected = false
  #peerHolds = false
  #receiver: PacketReceiver | null = null
  #outbound: OutboundRtpStream | null = null
  #octetsSent = 0
  #rtcp: RtcpSession | null = null
  #srtcpIn: SrtcpContext | null = null
  #srtcpOut: SrtcpContext | null = null
  #consentOptions: WeriftWebRtcLegOptions['consent']
  /** Our consent freshness on the nominated pair; null while werift's runs (before the take-over). */
  #consent: IceConsent | null = null
  /** The nominated pair consent last used, as a ConsentPath. */
  #consentPair: IcePair | null = null
  #consentPath: ConsentPath | null = null
  /** SRTCP packets from the browser that failed authentication (forged, replayed, truncated). */
  rtcpAuthenticationFailures = 0

  constructor(options: WeriftWebRtcLegOptions) {
    this.#announcedIps = new Set(options.announcedIps)
    this.#srtpProfiles = options.srtpProfiles ?? SRTP_PROFILES_PREFERRED
    this.#onClosed = options.onClosed
    this.#onFailed = options.onFailed
    this.#consentOptions = options.consent
    this.#packetPath = options.packetPath ?? null
    this.#pc = new RTCPeerConnection({
      iceServers: [],
      icePortRange: options.portRange,
      iceAdditionalHostAddresses: options.announcedIps,
      iceUseIpv6: options.announcedIps.some((ip) => ip.includes(':')),
      iceUseTcp: false,
      bundlePolicy: 'max-bundle',
      codecs: {
        audio: [CODECS.opus(), CODECS.PCMU(), CODECS.PCMA(), CODECS['telephone-event']()],
      },
      headerExtensions: { audio: [] },
    })
    this.#ready = new Promise<void>((resolve, reject) => {
      const takeOver = () => {
        try {
          this.#takeOverPacketPath()
          resolve()
        } catch (error) {
          reject(error)
        }
      }
      this.#pc.connectionStateChange.subscribe((state) => {
        if (state === 'connected') {
          // werift also says connected when a second negotiation (a re-offer) finds ICE connected
          // while the first one's DTLS handshake is still under way: the keys come with the DTLS
          // transport's own connected state (a busy machine, a re-INVITE right after the answer).
          const dtls = this.#pc.dtlsTransports[0]
          if (!dtls || dtls.state === 'connected') return takeOver()
          const { unSubscribe } = dtls.onStateChange.subscribe((dtlsState) => {
            if (dtlsState === 'connected') takeOver()
            if (dtlsState === 'connected' || dtlsState === 'failed' || dtlsState === 'closed')
              unSubscribe()
          })
        } else if (state === 'failed' || state === 'closed') {
          this.#rtcp?.stop(false)
          this.#consent?.stop()
          reject(new Error(`WebRTC connection ${state} before media could flow`))
          // Before or after media flowed: werift reports consent expiry as failed too
          if (state === 'failed') this.#fail()
        }
      })
    })
    this.#ready.catch(() => {})
  }

  get closed() {
    return this.#closed
  }

  get stats(): MediaLegStats {
    return this.#native?.stats ?? this.#counters
  }

  /** Loss and jitter of the RTP the browser sends us (after SRTP authentication). */
  get reception(): ReceptionView {
    return this.#native?.reception ?? this.#reception
  }

  /** The leg's id in the C++ packet path; 0 while RTP runs in TypeScript. */
  get nativeLeg(): number {
    return this.#native?.leg ?? 0
  }

  get nativeRelayed(): number {
    return this.#native?.relayed ?? 0
  }

  /**
   * Loss and jitter of what the browser sends us; the round-trip time from its receiver reports
   * on our sender reports (RFC 3550 §6.4.1), null before any.
   */
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

  get expectsMedia() {
    return this.#receiveExpected && !this.#closed
  }

  get peerHolds() {
    return this.#peerHolds
  }

  setReceiver(receiver: PacketReceiver | null) {
    this.#receiver = receiver
    if (this.#native) this.#packetPath!.setRtpHandler(this.#native.leg, receiver)
  }

  onClose(listener: () => void) {
    this.#closeListeners.push(listener)
  }

  restartOutboundSource() {
    this.#outbound?.restart()
    if (this.#native) this.#packetPath!.restart(this.#native.leg)
  }

  sendRelayed(packet: Buffer, length: number, payloadOffset: number, kind: PacketKind): boolean {
    if (this.#native) {
      this.#followNomination()
      return this.#packetPath!.send(this.#native.leg, packet, length, payloadOffset, kind)
    }
    const srtp = this.#srtpOut
    if (!this.#sendAllowed || srtp === null) return false
    const pair = this.#ice!.nominated
    const socket = pair?.protocol.transport?.socket
    if (!socket) return false
    const pt = kind === PacketKind.Audio ? this.#audioPt : this.#dtmfPt
    if (pt < 0) return false
    // werift's remoteAddr getter makes a new array per read: read once per nominated pair
    if (pair !== this.#sendPair) {
      const [address, port] = pair.remoteAddr
      this.#sendPair = pair
      this.#sendAddress = address
      this.#sendPort = port
    }
    packet[1] = (packet[1] & 0x80) | pt
    this.#outbound!.rewrite(packet, kind === PacketKind.Audio)
    const encrypted = srtp.protect(packet, length, payloadOffset)
    socket.send(encrypted, this.#sendPort, this.#sendAddress, this.#counters.sent)
    this.#octetsSent += length - payloadOffset
    return true
  }

  async answer(offerSdp: string, options: AnswerOptions) {
    this.#assertOpen()
    const offer = this.#readBrowserSdp(offerSdp)
    const chosen = chooseAudioCodec(offer, options.codecs)
    if (!chosen) {
      throw new MediaNegotiationError(
        `No common audio codec (allowed ${options.codecs.join(', ')})`
      )
    }
    const dtmfPt = options.dtmf === false ? null : telephoneEvent8000(offer)
    const keep = new Set([chosen.payloadType])
    if (dtmfPt !== null) keep.add(dtmfPt)
    const direction = ourDirection(offer, options.direction)

    await this.#pc.setRemoteDescription({
      type: 'offer',
      sdp: restrictAudioPayloads(offerSdp, keep),
    })
    this.#preferAesCm()
    const transceiver = this.#audioTransceiver()
    transceiver.setDirection(direction)
    await this.#pc.setLocalDescription(await this.#pc.createAnswer())
    const sdp = await this.#localSdp()
    const media = this.#apply(chosen, dtmfPt, direction, peerHolds(offer))
    return { sdp, media }
  }

  async createOffer(options: OfferOptions) {
    this.#assertOpen()
    if (options.codecs.length === 0)
      throw new MediaNegotiationError('An offer needs at least one audio codec')
    const direction = options.direction ?? 'sendrecv'
    const dtmf = options.dtmf !== false
    let transceiver =
      this.#transceiver ?? this.#pc.getTransceivers().find((t) => t.kind === 'audio') ?? null
    if (!transceiver) {
      transceiver = this.#pc.addTransceiver('audio', { direction })
      this.#transceiver = transceiver
    } else {
      transceiver.setDirection(direction)
    }
    const preferences = options.codecs.map((codec) => CODECS[codec]())
    if (dtmf) preferences.push(CODECS['telephone-event']())
    transceiver.setCodecPreferences(preferences)
    await this.#pc.setLocalDescription(await this.#pc.createOffer())
    this.#pendingOffer = { codecs: [...options.codecs], dtmf, direction }
    return this.#localSdp()
  }

  async applyAnswer(answerSdp: string) {
    this.#assertOpen()
    const offer = this.#pendingOffer
    if (!offer) throw new MediaNegotiationError('No offer of ours is waiting for an answer')
    const answer = this.#readBrowserSdp(answerSdp)
    const chosen = chooseAudioCodec(answer, offer.codecs)
    if (!chosen)
      throw new MediaNegotiationError('The answer has none of the audio codecs we offered')
    const dtmfPt = offer.dtmf ? telephoneEvent8000(answer) : null
    const keep = new Set([chosen.payloadType])
    if (dtmfPt !== null) keep.add(dtmfPt)
    await this.#pc.setRemoteDescription({
      type: 'answer',
      sdp: restrictAudioPayloads(answerSdp, keep),
    })
    this.#pendingOffer = null
    return this.#apply(chosen, dtmfPt, ourDirection(answer, offer.direction), peerHolds(answer))
  }

  ready() {
    return this.#ready
  }

  async close() {
    if (this.#closed) return
    this.#closed = true
    this.#receiver = null
    this.#sendAllowed = false
    this.#rtcp?.stop(true)
    this.#consent?.stop()
    // The addon lets go of its copies of the sockets before werift closes them
    this.#native?.close()
    await this.#pc.close().catch(() => {})
    this.#onClosed?.()
    for (const listener of this.#closeListeners.splice(0)) listener()
  }

  /** Whether the connection failed (see WeriftWebRtcLegOptions.onFailed). */
  get failed() {
    return this.#failed
  }

  #fail() {
    if (this.#failed || this.#closed) return
    this.#failed = true
    // RFC 7675 §5.1: no more media to a peer whose consent expired
    this.#sendAllowed = false
    this.#configureNative()
    this.#onFailed?.()
  }

  #assertOpen() {
    if (this.#closed) throw new MediaNegotiationError('This media leg is closed')
  }

  /** Browser SDP: c= is meaningless under ICE (often 0.0.0.0), so it never means hold here. */
  #readBrowserSdp(sdp: string): AudioDescription {
    const description = parseAudioSdp(sdp)
    if (description.port === 0)
      throw new MediaNegotiationError('The audio stream was rejected (port 0)')
    if (!description.protocol.includes('SAVP')) {
      throw new MediaNegotiationError(`A browser leg needs DTLS-SRTP, got ${description.protocol}`)
    }
    description.holdAddress = false
    return description
  }

  #audioTransceiver(): RTCRtpTransceiver {
    const transceiver = this.#pc.getTransceivers().find((t) => t.kind === 'audio')
    if (!transceiver) throw new MediaNegotiationError('The offer has no audio stream')
    this.#transceiver = transceiver
    return transceiver
  }

  /** Waits for host candidates (SIP carries complete SDP, no trickle) and keeps the announced ones. */
  async #localSdp(): Promise<string> {
    const pc = this.#pc
    if (pc.iceGatheringState !== 'complete') {
      await new Promise<void>((resolve) => {
        const { unSubscribe } = pc.iceGatheringStateChange.subscribe((state) => {
          if (state === 'complete') {
            unSubscribe()
            resolve()
          }
        })
      })
    }
    this.#preferAesCm()
    const lines = sdpLines(pc.localDescription!.sdp).filter((line) => {
      if (!line.startsWith('a=candidate:')) return true
      const [, , transport, , address] = line.split(' ')
      return transport.toLowerCase() === 'udp' && this.#announcedIps.has(address)
    })
    if (!lines.some((line) => line.startsWith('a=candidate:'))) {
      throw new Error(
        `No ICE candidate on the announced addresses ${[...this.#announcedIps].join(', ')}`
      )
    }
    return lines.join('\r\n') + '\r\n'
  }

  /** Our SRTP transform is fastest with AES-CM; werift prefers GCM. Set before the handshake. */
  #preferAesCm() {
    for (const transport of this.#pc.dtlsTransports as unknown as {
      state: string
      srtpProfiles: number[]
    }[]) {
      if (transport.state === 'new') transport.srtpProfiles = this.#srtpProfiles
    }
  }

  #apply(
    chosen: { codec: AudioCodecName; payloadType: number },
    dtmfPt: number | null,
    direction: MediaDirection,
    held: boolean
  ) {
    this.#peerHolds = held
    this.#audioPt = chosen.payloadType
    this.#clockRate = CODEC_CLOCK_RATES[chosen.codec]
    this.#outbound?.setClockRate(this.#clockRate)
    this.#reception.setClockRate(this.#clockRate)
    this.#dtmfPt = dtmfPt ?? -1
    this.#sendAllowed = canSend(direction) && this.#srtpOut !== null
    this.#receiveExpected = canReceive(direction)
    this.#direction = direction
    this.#configureNative()
    this.negotiated = {
      audio: { ...chosen },
      dtmf: dtmfPt === null ? null : { payloadType: dtmfPt },
      direction,
    }
    return this.negotiated
  }

  /** After DTLS: our SRTP on werift's keys, RTP read from the ICE sockets before werift sees it. */
  #takeOverPacketPath() {
    if (this.#srtpIn) return
    const dtls = this.#pc.dtlsTransports[0] as RTCDtlsTransport & { srtp?: { config: SrtpConfig } }
    const config = dtls?.srtp?.config
    const profile = config && SRTP_PROFILE_IDS[config.profile]
    if (!config || !profile) throw new Error('DTLS-SRTP keys are not available')
    this.#srtpIn = createSrtpContext(
      profile,
      config.keys.remoteMasterKey,
      config.keys.remoteMasterSalt
    )
    this.#srtpOut = createSrtpContext(
      profile,
      config.keys.localMasterKey,
      config.keys.localMasterSalt
    )
    this.#takeOverSrtcp(dtls as unknown as { srtcp?: WeriftSrtcpSession }, profile, config)
    const outbound = new OutboundRtpStream(this.#transceiver?.sender.ssrc)
    outbound.setClockRate(this.#clockRate)
    this.#outbound = outbound
    const ice = (dtls.iceTransport as unknown as { connection: IceConnection }).connection
    this.#ice = ice
    const consent = this.#takeOverConsent(ice)
    const handlers: ((data: Buffer, rinfo: dgram.RemoteInfo) => void)[] = []
    const sockets: dgram.Socket[] = []
    for (const protocol of ice.protocols) {
      const socket = protocol.transport?.socket
      if (!socket) continue
      const weriftListeners = socket.listeners('message') as ((
        data: Buffer,
        rinfo: dgram.RemoteInfo
      ) => void)[]
      socket.removeAllListeners('message')
      const handler = (data: Buffer, rinfo: dgram.RemoteInfo) => {
        // RTP and RTCP are ours; STUN and DTLS go on to werift (RFC 7983 demultiplexing; RTCP
        // packet types 192-223 as in RFC 5761 §4)
        if (data[0] >= 128 && data[0] <= 191) {
          if (data.length < 8) return
          if (data[1] < 192 || data[1] > 223) {
            if (data.length >= 12) this.#onSrtp(data)
          } else this.#onSrtcp(data)
          return
        }
        // STUN (first byte 0-3): consent checks and their answers on the nominated pair are ours
        if (data[0] < 4 && consent?.receive(data, rinfo.address, rinfo.port, socket)) return
        for (const listener of weriftListeners) listener.call(socket, data, rinfo)
        // A renomination arrives as STUN: the C++ path sends to the newly nominated pair
        if (this.#native) this.#followNomination()
      }
      socket.on('message', handler)
      handlers.push(handler)
      sockets.push(socket)
    }
    this.#sendAllowed = canSend(this.#direction)
    this.#takeOverNative(sockets, handlers, profile, config)
    // After the take-over: the session reads this leg's reception where it is kept (C++ or not)
    const cname = (this.#transceiver?.sender as { cname?: string } | undefined)?.cname
    this.#rtcp = new RtcpSession({
      cname: cname || `${outbound.ssrc}@fluffycall`,
      reception: this.reception,
      sent: () => {
        const native = this.#native
        if (native === null) {
          return {
            ssrc: outbound.ssrc,
            packets: this.#counters.packetsSent,
            octets: this.#octetsSent,
            lastTimestamp: outbound.lastTimestamp,
            lastSentAt: outbound.lastSentAt,
            clockRate: this.#clockRate,
          }
        }
        this.#followNomination()
        return {
          ssrc: outbound.ssrc,
          packets: native.packetsSent,
          octets: native.octetsSent,
          lastTimestamp: native.lastTimestamp,
          lastSentAt: native.lastSentAt,
          clockRate: this.#clockRate,
        }
      },
      transmit: (compound) => this.#transmitRtcp(compound),
    })
    this.#rtcp.start()
  }

  /**
   * RTP to the C++ packet path (when given and every ICE socket can be handed over): the addon
   * reads the sockets, runs SRTP on the same DTLS keys and gives the rest (STUN, DTLS, SRTCP)
   * back to `handlers`. The TypeScript SRTP contexts stay for nothing but this leg's SRTCP.
   */
  #takeOverNative(
    sockets: dgram.Socket[],
    handlers: ((data: Buffer, rinfo: dgram.RemoteInfo) => void)[],
    profile: SrtpProfile,
    config: SrtpConfig
  ) {
    const native = this.#packetPath
    const pair = this.#ice?.nominated
    const sendSocket = pair?.protocol.transport?.socket
    if (native === null || sockets.length === 0 || !sendSocket || !sockets.includes(sendSocket))
      return
    const leg = native.createLeg((data, address, port, index) => {
      const family = address.includes(':') ? 'IPv6' : 'IPv4'
      handlers[index]?.(data, { address, port, family, size: data.length })
    })
    const handedOver: dgram.Socket[] = []
    for (const socket of sockets) {
      if (!handOver(native, leg, socket, socket === sendSocket)) {
        // Leave everything with TypeScript: the sockets handed over so far are read by libuv again
        native.closeLeg(leg)
        for (const done of handedOver) handBack(done)
        return
      }
      handedOver.push(socket)
    }
    const id = NATIVE_SRTP_PROFILES[profile]
    const { keys } = config
    const [address, port] = pair!.remoteAddr
    native.configureReceive(
      leg,
      false,
      address,
      port,
      false,
      id,
      keys.remoteMasterKey,
      keys.remoteMasterSalt,
      this.#audioPt,
      this.#dtmfPt,
      this.#clockRate
    )
    native.configureSend(
      leg,
      false,
      id,
      keys.localMasterKey,
      keys.localMasterSalt,
      this.#audioPt,
      this.#dtmfPt,
      this.#clockRate,
      this.#outbound!.ssrc
    )
    this.#sendPair = pair!
    this.#sendAddress = address
    this.#sendPort = port
    this.#native = new NativeLegState(native, leg)
    if (this.#receiver) native.setRtpHandler(leg, this.#receiver)
    this.#configureNative()
  }

  /** What the C++ path needs after a negotiation, a failure or a close (keys stay). */
  #configureNative() {
    const native = this.#native
    if (native === null) return
    const packetPath = this.#packetPath!
    packetPath.configureReceive(
      native.leg,
      false,
      this.#sendAddress,
      this.#sendPort,
      false,
      NATIVE_SRTP_PROFILES[this.#srtpIn!.profile],
      null,
      null,
      this.#audioPt,
      this.#dtmfPt,
      this.#clockRate
    )
    packetPath.configureSend(
      native.leg,
      this.#sendAllowed && !this.#closed && !this.#failed,
      NATIVE_SRTP_PROFILES[this.#srtpOut!.profile],
      null,
      null,
      this.#audioPt,
      this.#dtmfPt,
      this.#clockRate,
      this.#outbound!.ssrc
    )
  }

  /** The C++ path sends to the nominated pair: a new pair (renomination) moves it there. */
  #followNomination() {
    const pair = this.#ice?.nominated
    if (!pair || pair === this.#sendPair || this.#native === null) return
    const [address, port] = pair.remoteAddr
    this.#sendPair = pair
    this.#sendAddress = address
    this.#sendPort = port
    this.#configureNative()
  }

  /**
   * Replaces werift's consent freshness (a loop per leg with an AbortController, a STUN
   * transaction and its timers per check, node:crypto HMACs from Buffer keys both ways, about
   * half of a connected call's idle CPU: bench/README.md, fourth and sixth rounds) by IceConsent
   * on the same nominated pair: same periods, same outcome (consent lost: the leg fails). werift's
   * loop is stopped through members its typings call private; if a werift version lacks them,
   * its own consent stays (null returned) and nothing else changes.
   */
  #takeOverConsent(ice: IceConnection): IceConsent | null {
    if (
      typeof ice.stopConsentLifecycle !== 'function' ||
      typeof ice.queryConsent !== 'function' ||
      typeof ice.consentFresh !== 'boolean' ||
      !ice.remotePassword ||
      !ice.localPassword
    )
      return null
    const options = this.#consentOptions
    const consent = new IceConsent({
      localUfrag: ice.localUsername,
      localPassword: ice.localPassword,
      remoteUfrag: ice.remoteUsername,
      remotePassword: ice.remotePassword,
      controlling: () => ice.iceControlling,
      tieBreaker: typeof ice.tieBreaker === 'bigint' ? ice.tieBreaker : undefined,
      path: () => this.#nominatedPath(),
      onExpired: () => {
        // RFC 7675 §5.1: nothing more to this peer, werift's DTLS included
        ice.consentFresh = false
        this.#rtcp?.stop(false)
        this.#fail()
      },
      clock: options?.clock,
      intervalMs: options?.intervalMs,
      timeoutMs: options?.timeoutMs,
    })
    ice.stopConsentLifecycle()
    // werift sends DTLS (a close_notify, retransmitted flights) only while consent is fresh; a
    // renomination would restart its loop: ours covers whichever pair is nominated
    ice.consentFresh = true
    ice.queryConsent = () => {
      ice.consentFresh = true
    }
    this.#consent = consent
    consent.start()
    return consent
  }

  /** The nominated pair as a ConsentPath, made once per pair. */
  #nominatedPath(): ConsentPath | null {
    const pair = this.#ice?.nominated
    const socket = pair?.protocol.transport?.socket
    if (!pair || !socket) return null
    if (pair !== this.#consentPair) {
      const [address, port] = pair.remoteAddr
      this.#consentPair = pair
      this.#consentPath = { socket, address, port }
    }
    return this.#consentPath
  }

  /** Whether werift's consent freshness was replaced by ours (for tests). */
  get consentChecks(): { sent: number; answered: number; received: number } | null {
    const consent = this.#consent
    if (consent === null) return null
    return {
      sent: consent.checksSent,
      received: consent.responsesReceived,
      answered: consent.checksAnswered,
    }
  }

  /** Our compound RTCP, SRTCP-protected, to the browser on the nominated pair. */
  #transmitRtcp(compound: Buffer): boolean {
    const srtcp = this.#srtcpOut
    const pair = this.#ice?.nominated
    const socket = pair?.protocol.transport?.socket
    if (srtcp === null || !pair || !socket) return false
    try {
      socket.send(srtcp.protect(compound), pair.remoteAddr[1], pair.remoteAddr[0])
    } catch {
      // werift closed the socket (the connection failed): no report, the leg closes soon
      return false
    }
    return true
  }

  /** The browser's SRTCP: a forged, replayed or truncated packet is counted and dropped. */
  #onSrtcp(packet: Buffer) {
    const srtcp = this.#srtcpIn
    if (srtcp === null || this.#rtcp === null) return
    const length = srtcp.unprotect(packet)
    if (length < 0) this.rtcpAuthenticationFailures++
    else this.#rtcp.receive(packet, length)
  }

  /**
   * Our SrtcpContext on the DTLS keys for our RtcpSession; werift's SRTCP session is replaced by
   * the same contexts in case werift sends or reads RTCP itself (its SRTCP makes a cipher and an
   * HMAC from Buffer keys per packet). Our index continues above the ones werift used.
   */
  #takeOverSrtcp(dtls: { srtcp?: WeriftSrtcpSession }, profile: SrtpProfile, config: SrtpConfig) {
    const session = dtls.srtcp
    let sent = 0
    for (const state of Object.values(session?.localContext?.srtcpSSRCStates ?? {})) {
      sent = Math.max(sent, state.srtcpIndex)
    }
    const { keys } = config
    const outbound = createSrtcpContext(
      profile,
      keys.localMasterKey,
      keys.localMasterSalt,
      sent + 1
    )
    const inbound = createSrtcpContext(profile, keys.remoteMasterKey, keys.remoteMasterSalt)
    this.#srtcpOut = outbound
    this.#srtcpIn = inbound
    if (!session) return
    dtls.srtcp = {
      encrypt: (rtcp) => outbound.protect(rtcp),
      decrypt: (packet) => {
        const length = inbound.unprotect(packet)
        // werift drops the packet on this error class (forged, replayed or too short)
        if (length < 0) throw new SrtpAuthenticationError('SRTCP authentication failed')
        return packet.subarray(0, length)
      },
    }
  }

  #onSrtp(packet: Buffer) {
    const srtp = this.#srtpIn!
    const length = packet.length
    const offset = rtpPayloadOffset(packet, length - srtp.overhead)
    if (offset < 0) return
    const plainLength = srtp.unprotect(packet, length, offset)
    if (plainLength < 0) {
      this.#counters.packetsRejected++
      return
    }
    this.#counters.packetsReceived++
    this.#reception.packet(packet)
    const receiver = this.#receiver
    if (receiver === null) return
    const pt = packet[1] & 0x7f
    if (pt === this.#audioPt) receiver(packet, plainLength, offset, PacketKind.Audio)
    else if (pt === this.#dtmfPt) receiver(packet, plainLength, offset, PacketKind.Dtmf)
  }
}
