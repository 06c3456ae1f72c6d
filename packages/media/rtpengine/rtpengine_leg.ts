import { randomUUID } from 'node:crypto'
import { NgCommandError, type default as NgClient } from '#media/rtpengine/ng_client'
import type { BencodeDictionary } from '#media/rtpengine/bencode'
import {
  MediaNegotiationError,
  type AnswerOptions,
  type AudioCodecName,
  type LegQuality,
  type MediaDirection,
  type MediaLeg,
  type MediaLegStats,
  type NegotiatedMedia,
  type OfferOptions,
} from '#media/types'
import {
  buildAudioSdp,
  chooseAudioCodec,
  ourDirection,
  parseAudioSdp,
  payloadTypeOf,
  telephoneEvent8000,
} from '#media/sdp/audio_sdp'

/** Where an unbridged leg's inner side points: the discard port, never a listener of ours. */
const NOWHERE = 9
const STATIC_PT: Partial<Record<AudioCodecName, number>> = { PCMU: 0, PCMA: 8 }
const DEFAULT_OPUS_PT = 111
const DEFAULT_DTMF_PT = 101

interface QueriedTag {
  medias?: Array<{ streams?: Array<{ stats?: { packets?: number } }> }>
}

/** What we last told rtpengine about the inner side (the B2BUA's end), to say it again elsewhere. */
interface InnerDescription {
  audio: { codec: AudioCodecName; payloadType: number }[]
  dtmfPayloadType: number | null
  direction: MediaDirection
}

/**
 * One of our legs as one rtpengine call with two parties: `outer` (the browser, carrier or phone)
 * and `inner` (the B2BUA's side, plain RTP on loopback). Until the leg is bridged its inner side
 * points at the discard port; bridging points the inner sides of two legs at each other, so a
 * packet crosses rtpengine twice. rtpengine does ICE, DTLS-SRTP and SDES itself on the outer side.
 */
export default class RtpengineLeg implements MediaLeg {
  /** rtpengine's call-id: `fluffycall-<uuid>`, or `fluffycall/<owner>/<uuid>` for an owner's legs. */
  readonly callId: string
  negotiated: NegotiatedMedia | null = null
  // rtpengine sends the media itself: its send errors are its own, not read back (0)
  stats: MediaLegStats = { packetsReceived: 0, packetsSent: 0, packetsRejected: 0, sendFailures: 0 }
  /** rtpengine's loss and jitter are not read back yet: zeros (see README, media engines). */
  quality: LegQuality = {
    packetsExpected: 0,
    packetsLost: 0,
    lossFraction: 0,
    jitterMs: 0,
    rttMs: null,
    rtcpSent: 0,
    rtcpReceived: 0,
  }
  /** Who made the last offer that was answered: the peer (outer) or we (inner). */
  #offerer: 'outer' | 'inner' | null = null
  /** The peer's SDP of the last exchange (its offer, or its answer to ours). */
  #peerSdp: string | null = null
  #inner: InnerDescription | null = null
  #pendingOffer: InnerDescription | null = null
  /** rtpengine's port for the inner side: where the other leg's inner side sends. */
  #innerPort: number | null = null
  /** Where our inner side sends: the bridged leg's inner port. */
  #target: number | null = null
  #closed = false

  constructor(
    readonly kind: 'webrtc' | 'rtp',
    private ng: NgClient,
    private options: { srtp?: boolean; latching?: boolean; address: string },
    private onClosed: (leg: RtpengineLeg) => void,
    owner?: string
  ) {
    this.callId = `${owner === undefined ? 'fluffycall-' : ownerPrefix(owner)}${randomUUID()}`
  }

  get innerPort() {
    return this.#innerPort
  }

  /** rtpengine's port towards the peer, from the last SDP it wrote for the peer. */
  outerPort: number | null = null

  /** rtpengine picks its port at the first offer or answer: 0 until then. */
  get localPort() {
    return this.outerPort ?? 0
  }

  /** The bridge or echo test points the inner side somewhere (null: nowhere). */
  async pointAt(port: number | null) {
    if (this.#target === port || !this.#inner || this.#closed) {
      // Closed: rtpengine's call is deleted, there is nothing left to point
      this.#target = port
      return
    }
    this.#target = port
    try {
      await this.#repoint()
    } catch (error) {
      // Closed meanwhile: the call is gone in rtpengine, nothing to point anywhere
      if (!this.#closed) throw error
    }
  }

  async #repoint() {
    const inner = this.#inner!
    if (this.#offerer === 'outer') {
      await this.#command('answer', {
        'from-tag': 'outer',
        'to-tag': 'inner',
        'sdp': this.#innerSdp(inner),
        'flags': this.#flags(),
      })
    } else {
      await this.#command('offer', {
        ...this.#outerFlags(),
        'from-tag': 'inner',
        'to-tag': 'outer',
        'sdp': this.#innerSdp(inner),
        'flags': this.#flags(),
      })
      await this.#command('answer', {
        'from-tag': 'inner',
        'to-tag': 'outer',
        'sdp': this.#peerSdp!,
        'flags': this.#flags(),
      })
    }
  }

  async answer(offerSdp: string, options: AnswerOptions) {
    const peer = this.#parsePeer(offerSdp)
    const chosen = chooseAudioCodec(peer, options.codecs)
    if (!chosen)
      throw new MediaNegotiationError(`no acceptable codec (${options.codecs.join(', ')})`)
    this.#checkTransport(peer.dtls, peer.hasCrypto)
    const offered = await this.#command('offer', {
      'from-tag': 'outer',
      ...(this.#offerer ? { 'to-tag': 'inner' } : {}),
      'sdp': offerSdp,
      'transport-protocol': 'RTP/AVP',
      'ICE': 'remove',
      'rtcp-mux': ['demux'],
      'flags': this.#flags(),
    })
    const innerOffer = parseAudioSdp(sdpOf(offered))
    const dtmf = options.dtmf === false ? null : telephoneEvent8000(innerOffer)
    const direction = ourDirection(peer, options.direction)
    const inner = { audio: [chosen], dtmfPayloadType: dtmf, direction }
    const answered = await this.#command('answer', {
      'from-tag': 'outer',
      'to-tag': 'inner',
      'sdp': this.#innerSdp(inner),
      'flags': this.#flags(),
    })
    this.#innerPort = innerOffer.port
    this.#offerer = 'outer'
    this.#peerSdp = offerSdp
    this.#inner = inner
    const media: NegotiatedMedia = {
      audio: chosen,
      dtmf: dtmf === null ? null : { payloadType: dtmf },
      direction,
    }
    this.negotiated = media
    const answer = sdpOf(answered)
    this.outerPort = parseAudioSdp(answer).port
    return { sdp: answer, media }
  }

  async createOffer(options: OfferOptions) {
    const model = options.payloadTypesFrom ? safeParse(options.payloadTypesFrom) : null
    const previous = this.#inner
    const payloadType = (codec: AudioCodecName) =>
      STATIC_PT[codec] ??
      previous?.audio.find((entry) => entry.codec === codec)?.payloadType ??
      (model && payloadTypeOf(model, codec)) ??
      DEFAULT_OPUS_PT
    const inner: InnerDescription = {
      audio: options.codecs.map((codec) => ({ codec, payloadType: payloadType(codec) })),
      dtmfPayloadType:
        options.dtmf === false
          ? null
          : (previous?.dtmfPayloadType ?? (model && telephoneEvent8000(model)) ?? DEFAULT_DTMF_PT),
      direction: options.direction ?? 'sendrecv',
    }
    const offered = await this.#command('offer', {
      ...this.#outerFlags(),
      'from-tag': 'inner',
      ...(this.#offerer ? { 'to-tag': 'outer' } : {}),
      'sdp': this.#innerSdp(inner),
      'flags': this.#flags(),
    })
    this.#pendingOffer = inner
    const offer = sdpOf(offered)
    this.outerPort = safeParse(offer)?.port ?? null
    return offer
  }

  async applyAnswer(answerSdp: string) {
    const offer = this.#pendingOffer
    if (!offer) throw new MediaNegotiationError('an answer without an offer')
    const peer = this.#parsePeer(answerSdp)
    const chosen = chooseAudioCodec(
      peer,
      offer.audio.map((entry) => entry.codec)
    )
    if (!chosen) throw new MediaNegotiationError('the answer has none of the offered codecs')
    const answered = await this.#command('answer', {
      'from-tag': 'inner',
      'to-tag': 'outer',
      'sdp': answerSdp,
      'flags': this.#flags(),
    })
    const dtmf = offer.dtmfPayloadType === null ? null : telephoneEvent8000(peer)
    this.#innerPort = parseAudioSdp(sdpOf(answered)).port
    this.#offerer = 'inner'
    this.#peerSdp = answerSdp
    this.#pendingOffer = null
    this.#inner = { ...offer, dtmfPayloadType: offer.dtmfPayloadType }
    const media: NegotiatedMedia = {
      audio: chosen,
      dtmf: dtmf === null ? null : { payloadType: dtmf },
      direction: ourDirection(peer, offer.direction),
    }
    this.negotiated = media
    return media
  }

  /**
   * rtpengine plays audio to the peer (`play media`: a file on rtpengine's host, or the file's
   * bytes); resolves with its length in ms.
   */
  async playMedia(source: { file: string } | { blob: Buffer }): Promise<number> {
    const reply = await this.#command('play media', { 'from-tag': 'outer', ...source })
    return Number(reply.duration) || 0
  }

  /** Stops what playMedia started (nothing playing any more is no error). */
  async stopMedia() {
    if (this.#closed) return
    await this.#command('stop media', { 'from-tag': 'outer' }).catch(() => {})
  }

  /** rtpengine does ICE and DTLS on its own schedule and does not report them: nothing to wait for. */
  async ready() {}

  /** Deletes the call in rtpengine (always sent once, even if nothing was negotiated). */
  async close() {
    if (this.#closed) return
    this.#closed = true
    this.onClosed(this)
    try {
      const deleted = await this.ng.command('delete', { 'call-id': this.callId })
      this.#readCounters(deleted)
    } catch (error) {
      // Never negotiated (unknown call-id): nothing to delete
      if (this.#offerer) throw error
    }
  }

  /**
   * The packets rtpengine received from the peer (outer) and from the bridged leg (inner, sent on
   * to the peer): from `query`. 'gone' when rtpengine no longer knows the call (its own timeout);
   * null when it did not answer.
   */
  async readStats(): Promise<MediaLegStats | 'gone' | null> {
    if (this.#closed || !this.#offerer) return null
    try {
      this.#readCounters(await this.ng.command('query', { 'call-id': this.callId }))
      return this.stats
    } catch (error) {
      return error instanceof NgCommandError ? 'gone' : null
    }
  }

  #readCounters(reply: BencodeDictionary) {
    const tags = reply.tags as Record<string, QueriedTag> | undefined
    if (!tags) return
    const packets = (tag: string) => tags[tag]?.medias?.[0]?.streams?.[0]?.stats?.packets ?? 0
    this.stats = {
      packetsReceived: packets('outer'),
      packetsSent: packets('inner'),
      packetsRejected: 0,
      sendFailures: 0,
    }
  }

  /** A browser writes c=0.0.0.0 under ICE: that is not a hold (RFC 8839 §4.2.1). */
  #parsePeer(sdp: string) {
    const description = parseAudioSdp(sdp)
    if (this.kind === 'webrtc' && description.dtls) description.holdAddress = false
    return description
  }

  #checkTransport(dtls: boolean, hasCrypto: boolean) {
    if (this.kind === 'webrtc' && !dtls)
      throw new MediaNegotiationError('a WebRTC leg needs DTLS-SRTP (a=fingerprint)')
    if (this.kind === 'rtp' && hasCrypto && !this.options.srtp)
      throw new MediaNegotiationError('SRTP is offered only over TLS')
  }

  /**
   * Keep rtpengine's ports when the inner side moves (bridging), write a=rtcp with its address
   * (werift and some phones need it) and the directions as given; carriers: packets only from the
   * signalled address.
   */
  #flags() {
    const flags = ['port-latching', 'full-rtcp-attribute', 'original-sendrecv']
    if (this.options.latching === false) flags.push('strict-source')
    return flags
  }

  /** How rtpengine writes the SDP towards the peer. */
  #outerFlags(): BencodeDictionary {
    if (this.kind === 'webrtc') {
      return {
        'transport-protocol': 'UDP/TLS/RTP/SAVPF',
        'ICE': 'force',
        'rtcp-mux': ['offer', 'require'],
      }
    }
    return {
      'transport-protocol': this.options.srtp ? 'RTP/SAVP' : 'RTP/AVP',
      'ICE': 'remove',
      'rtcp-mux': ['demux'],
    }
  }

  #innerSdp(inner: InnerDescription) {
    return buildAudioSdp({
      sessionId: '1',
      version: 1,
      address: this.options.address,
      port: this.#target ?? NOWHERE,
      audio: inner.audio,
      dtmfPayloadType: inner.dtmfPayloadType,
      direction: inner.direction,
    })
  }

  #command(command: string, fields: BencodeDictionary) {
    if (this.#closed) throw new MediaNegotiationError('the leg is closed')
    return this.ng.command(command, { 'call-id': this.callId, ...fields })
  }
}

function sdpOf(reply: BencodeDictionary): string {
  if (typeof reply.sdp !== 'string') throw new MediaNegotiationError('rtpengine returned no SDP')
  return reply.sdp
}

function safeParse(sdp: string) {
  try {
    return parseAudioSdp(sdp)
  } catch {
    return null
  }
}

/**
 * The start of the call-ids of `owner`'s legs (a node's id). The owner is URI-encoded, so one
 * owner's prefix never starts another's (`node-a` and `node-a/b` differ at the slash).
 */
export function ownerPrefix(owner: string): string {
  return `fluffycall/${encodeURIComponent(owner)}/`
}
