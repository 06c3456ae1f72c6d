import { randomBytes } from 'node:crypto'
import { rtpPayloadOffset } from '#media/rtp_header'
import type { AudioDescription } from '#media/sdp/audio_sdp'
import {
  cryptoAttribute,
  SdesKey,
  type SdesCrypto,
  type SdesRejection,
  type SdesSuite,
} from '#media/sdp/sdes_crypto'
import {
  createSrtcpContext,
  createSrtpContext,
  type SrtcpContext,
  type SrtpContext,
} from '#media/srtp_context'
import { MediaNegotiationError } from '#media/types'

/**
 * Our offer, most preferred first: the 80-bit tag, then the 32-bit one (RFC 4568 §6.2), then
 * AEAD_AES_128_GCM (RFC 7714 §12). AES-CM stays first because every desk phone knows it; a peer
 * skips the lines it does not know, so GCM last costs nobody a call.
 */
const OFFERED: readonly [number, SdesSuite][] = [
  [1, 'AES_CM_128_HMAC_SHA1_80'],
  [2, 'AES_CM_128_HMAC_SHA1_32'],
  [3, 'AEAD_AES_128_GCM'],
]

/** `SdesReceiver.unprotect` results below zero. */
export const NOT_RTP = -2
export const AUTH_FAILED = -1

/**
 * Inbound SRTP and SRTCP with the peer's key. Handles the peer's MKI (not authenticated) by
 * checking it and cutting it out in place: with AES-CM between the payload (SRTCP: E|index) and
 * the tag (RFC 3711 §3.1, §3.4); with GCM after the tag, at the very end (RFC 7714 §8, §9).
 */
export class SdesReceiver {
  readonly key: SdesKey
  readonly mki: Buffer | null
  readonly #context: SrtpContext
  readonly #trailer: number
  /** Bytes after the MKI: the HMAC tag (AES-CM, 10 on SRTCP for both tag lengths); none (GCM). */
  readonly #tagAfterMki: number
  readonly #rtcpTagAfterMki: number
  readonly #rtcp: SrtcpContext

  constructor(peer: SdesCrypto) {
    this.key = peer.key
    this.mki = peer.mki
    this.#context = createSrtpContext(peer.suite, peer.key.masterKey, peer.key.masterSalt)
    this.#trailer = this.#context.overhead + (peer.mki?.length ?? 0)
    this.#rtcp = createSrtcpContext(peer.suite, peer.key.masterKey, peer.key.masterSalt)
    const aead = peer.suite === 'AEAD_AES_128_GCM'
    this.#tagAfterMki = aead ? 0 : this.#context.overhead
    this.#rtcpTagAfterMki = aead ? 0 : 10
  }

  /** Authenticates and decrypts one SRTCP packet in place: the RTCP length, or AUTH_FAILED. */
  unprotectRtcp(packet: Buffer, length: number): number {
    const mki = this.mki
    if (mki !== null) {
      const at = length - this.#rtcpTagAfterMki - mki.length
      if (at < 8 || packet.compare(mki, 0, mki.length, at, at + mki.length) !== 0)
        return AUTH_FAILED
      packet.copyWithin(at, at + mki.length, length)
      length -= mki.length
    }
    return this.#rtcp.unprotect(packet, length) < 0 ? AUTH_FAILED : length - this.#rtcp.overhead
  }

  /** Decrypts in place: the plain RTP length, NOT_RTP (e.g. SRTCP) or AUTH_FAILED. */
  unprotect(packet: Buffer, length: number): number {
    const offset = rtpPayloadOffset(packet, length - this.#trailer)
    if (offset < 0) return NOT_RTP
    const mki = this.mki
    if (mki !== null) {
      const at = length - this.#tagAfterMki - mki.length
      if (packet.compare(mki, 0, mki.length, at, at + mki.length) !== 0) return AUTH_FAILED
      packet.copyWithin(at, at + mki.length, length)
      length -= mki.length
    }
    return this.#context.unprotect(packet, length, offset)
  }

  /** Same key, salt and MKI: a re-offer that keeps the peer's key keeps our rollover state. */
  sameAs(peer: SdesCrypto): boolean {
    const mki = peer.mki
    return (
      this.key.equals(peer.key) &&
      (mki === null ? this.mki === null : this.mki !== null && mki.equals(this.mki))
    )
  }
}

function describeRejections(rejected: SdesRejection[]): string {
  if (rejected.length === 0) return 'there is no a=crypto line'
  return rejected
    .map((entry) => `${entry.tag === null ? 'a line' : `tag ${entry.tag}`}: ${entry.reason}`)
    .join('; ')
}

/**
 * The SDES offer/answer state of one RTP leg (RFC 4568 §5-7): our own key per suite, fresh
 * random per leg and kept for the leg's life (re-offers such as hold keep them), the suite in
 * use, and the SRTP contexts (outbound with our key, inbound with the peer's). Each step first
 * checks everything and returns a `commit`, so a failed negotiation changes nothing.
 */
export default class SdesNegotiation {
  #random: (size: number) => Buffer
  #ownKeys = new Map<SdesSuite, SdesKey>()
  /** Tags of our last offer waiting for an answer. */
  #offered: Map<number, SdesSuite> | null = null
  #suite: SdesSuite | null = null
  #outbound: SrtpContext | null = null
  #outboundRtcp: SrtcpContext | null = null
  /** UNENCRYPTED_SRTCP in the line in use: our SRTCP goes out with E = 0. */
  #unencryptedSrtcp = false
  #inbound: SdesReceiver | null = null

  constructor(random: (size: number) => Buffer = randomBytes) {
    this.#random = random
  }

  /** The suite in use after a completed offer/answer. */
  get suite(): SdesSuite | null {
    return this.#suite
  }

  get outbound(): SrtpContext | null {
    return this.#outbound
  }

  /** Our key for the suite in use (what `outbound` protects with); null before the negotiation. */
  get outboundKey(): SdesKey | null {
    return this.#suite === null ? null : (this.#ownKeys.get(this.#suite) ?? null)
  }

  get inbound(): SdesReceiver | null {
    return this.#inbound
  }

  /** Our compound RTCP as SRTCP with our key; null before the negotiation. */
  protectRtcp(packet: Buffer): Buffer | null {
    return this.#outboundRtcp?.protect(packet, packet.length, !this.#unencryptedSrtcp) ?? null
  }

  #ownKey(suite: SdesSuite): SdesKey {
    let key = this.#ownKeys.get(suite)
    if (!key) {
      key = SdesKey.generate(suite, this.#random)
      this.#ownKeys.set(suite, key)
    }
    return key
  }

  /** Attribute values (`crypto:...`) for our offer; the same keys in every re-offer. */
  offer(): string[] {
    this.#offered = new Map(OFFERED)
    return OFFERED.map(([tag, suite]) => cryptoAttribute(tag, this.#ownKey(suite)))
  }

  /** Picks the first usable line of the peer's offer (its preference) and keys our answer to it. */
  answer(offer: AudioDescription): { attribute: string; commit: () => void } {
    const rejected = [...offer.cryptoRejected]
    let chosen: SdesCrypto | null = null
    for (const crypto of offer.crypto) {
      // A peer reflecting our own key back would make both directions share one keystream
      if (this.#ownKeys.get(crypto.suite)?.equals(crypto.key)) {
        rejected.push({ tag: crypto.tag, reason: 'the key is our own' })
        continue
      }
      chosen = crypto
      break
    }
    if (!chosen)
      throw new MediaNegotiationError(
        `No usable SDES crypto line in the offer (${describeRejections(rejected)})`
      )
    const peer = chosen
    return {
      attribute: cryptoAttribute(peer.tag, this.#ownKey(peer.suite), peer.unencryptedSrtcp),
      commit: () => this.#use(peer),
    }
  }

  /** Checks the peer's answer against our last offer: one line, a tag and suite we offered. */
  applyAnswer(answer: AudioDescription): () => void {
    const offered = this.#offered
    if (!offered) throw new MediaNegotiationError('No SDES offer of ours is waiting for an answer')
    if (answer.crypto.length + answer.cryptoRejected.length > 1) {
      throw new MediaNegotiationError('The answer must carry exactly one a=crypto line')
    }
    const peer = answer.crypto[0]
    if (!peer)
      throw new MediaNegotiationError(
        `No usable SDES crypto line in the answer (${describeRejections(answer.cryptoRejected)})`
      )
    if (offered.get(peer.tag) !== peer.suite) {
      throw new MediaNegotiationError(
        `The answer's crypto tag ${peer.tag} (${peer.suite}) is not one we offered`
      )
    }
    if (this.#ownKey(peer.suite).equals(peer.key))
      throw new MediaNegotiationError("The answer's key is our own")
    return () => {
      this.#offered = null
      this.#use(peer)
    }
  }

  #use(peer: SdesCrypto) {
    if (this.#suite !== peer.suite || this.#outbound === null) {
      const own = this.#ownKey(peer.suite)
      this.#outbound = createSrtpContext(peer.suite, own.masterKey, own.masterSalt)
      this.#outboundRtcp = createSrtcpContext(peer.suite, own.masterKey, own.masterSalt)
      this.#suite = peer.suite
    }
    this.#unencryptedSrtcp = peer.unencryptedSrtcp === true
    if (this.#inbound === null || !this.#inbound.sameAs(peer))
      this.#inbound = new SdesReceiver(peer)
  }
}
