import { createCipheriv, createSecretKey, timingSafeEqual, type Cipheriv } from 'node:crypto'
import Ghash from '#media/ghash'
import HmacSha1 from '#media/hmac_sha1'

/**
 * Our own SRTP transform (RFC 3711 AES_CM_128_HMAC_SHA1_80 and _32, RFC 7714 AEAD_AES_128_GCM)
 * on the master keys werift's DTLS handshake exports or SDES (RFC 4568) signals. werift's SRTP creates ciphers from Buffer keys
 * and several object graphs per packet (7x slower on Node 24, see docs/telephony-notes.md). Here
 * the AES-CM keystream comes from one long-lived ECB cipher (no key set-up per packet), made for
 * up to 16 packets per call, HMAC-SHA1 is plain JavaScript on precomputed key states (no
 * node:crypto call), GCM is the same batched counter-mode keystream (its J0 block included, for
 * the tag) with GHASH in plain JavaScript on a per-key table, packets are decrypted in place, and
 * failures are return values, not exceptions.
 */

export type SrtpProfile = 'AES_CM_128_HMAC_SHA1_80' | 'AES_CM_128_HMAC_SHA1_32' | 'AEAD_AES_128_GCM'

/** werift's / IANA's DTLS-SRTP protection profile numbers (RFC 5764, RFC 7714). */
export const SRTP_PROFILE_IDS: Record<number, SrtpProfile> = {
  1: 'AES_CM_128_HMAC_SHA1_80',
  7: 'AEAD_AES_128_GCM',
}

export interface SrtpContext {
  readonly profile: SrtpProfile
  /** Bytes an encrypted packet grows by (authentication tag). */
  readonly overhead: number
  /** Encrypts `packet[0..length)`; returns a new buffer holding the SRTP packet. */
  protect(packet: Buffer, length: number, payloadOffset: number): Buffer
  /** Decrypts in place; returns the plain RTP length, or -1 when authentication fails. */
  unprotect(packet: Buffer, length: number, payloadOffset: number): number
}

const BLOCK = 16

/** AES-CM PRF of RFC 3711 §4.3 (key derivation rate 0): `length` bytes for one label. */
export function deriveSessionKey(
  masterKey: Buffer,
  masterSalt: Buffer,
  label: number,
  length: number
): Buffer {
  const ecb = createCipheriv('aes-128-ecb', masterKey, null)
  ecb.setAutoPadding(false)
  const blocks = Math.ceil(length / BLOCK)
  const input = Buffer.alloc(blocks * BLOCK)
  for (let i = 0; i < blocks; i++) {
    // x = key_id XOR master_salt, key_id = label || 48-bit index (0) right-aligned in 112 bits
    masterSalt.copy(input, i * BLOCK, 0, Math.min(14, masterSalt.length))
    input[i * BLOCK + 7] ^= label
    input.writeUInt16BE(i, i * BLOCK + 14)
  }
  return Buffer.concat([ecb.update(input), ecb.final()]).subarray(0, length)
}

/**
 * Rollover counter bookkeeping of one SSRC (RFC 3711 §3.3.1). The SRTP paths read SSRCs as signed
 * 32-bit values (the same bits; V8 boxes an unsigned one above 2^31 per read): keys and
 * comparisons only, the counter blocks take the bits.
 */
interface RocState {
  ssrc: number
  roc: number
  lastSeq: number
}

class RocTable {
  #states = new Map<number, RocState>()
  #last: RocState | null = null

  get(ssrc: number, seq: number): RocState {
    const last = this.#last
    if (last !== null && last.ssrc === ssrc) return last
    let state = this.#states.get(ssrc)
    if (!state) {
      state = { ssrc, roc: 0, lastSeq: seq }
      this.#states.set(ssrc, state)
    }
    this.#last = state
    return state
  }

  /** Sender side: the ROC to use for `seq`, advancing it on wrap-around. */
  nextSendRoc(state: RocState, seq: number): number {
    if (seq < state.lastSeq && state.lastSeq - seq > 0x8000) state.roc = (state.roc + 1) >>> 0
    if (seq > state.lastSeq || state.lastSeq - seq > 0x8000) state.lastSeq = seq
    return state.roc
  }
}

/** Receiver's guess of the ROC of `seq` (RFC 3711 Appendix A). */
function estimateRoc(state: RocState, seq: number): number {
  const last = state.lastSeq
  if (last < 0x8000) {
    return seq - last > 0x8000 && state.roc > 0 ? state.roc - 1 : state.roc
  }
  return last - 0x8000 > seq ? (state.roc + 1) >>> 0 : state.roc
}

function acceptRoc(state: RocState, roc: number, seq: number) {
  if (roc === state.roc + 1) {
    state.roc = roc
    state.lastSeq = seq
  } else if (roc === state.roc && seq > state.lastSeq) {
    state.lastSeq = seq
  }
}

/** Keystream bytes one ECB call makes at most: up to 16 consecutive packets of one SSRC. */
const KEYSTREAM_BYTES = 4096
const KEYSTREAM_PACKETS = 16

/** Writes the `blocks` counter blocks of one packet (SSRC, index ROC << 16 | SEQ) at `at`. */
type CounterBlocks = (
  counters: Buffer,
  at: number,
  ssrc: number,
  packetIndex: number,
  blocks: number
) => void

/**
 * Keystream made ahead for consecutive packet indexes (ROC << 16 | SEQ) of one SSRC: a
 * node:crypto call costs ~1.5 us of overhead whatever its size, so one ECB call serves up to 16
 * packets. The keystream of an index is the same whenever it is made (no reuse across indexes);
 * a late packet, a jump or another SSRC makes a new batch.
 */
class KeystreamBatches {
  #ecb: Cipheriv
  #counterBlocks: CounterBlocks
  #ssrc = -1
  #first = 0
  #packets = 0
  #blocks = 0
  #counters = Buffer.alloc(0)
  keystream: Buffer = Buffer.alloc(0)

  constructor(ecb: Cipheriv, counterBlocks: CounterBlocks) {
    this.#ecb = ecb
    this.#counterBlocks = counterBlocks
  }

  /** Offset in `keystream` of the keystream for (ssrc, index), `blocks` blocks long. */
  at(ssrc: number, index: number, blocks: number): number {
    const k = index - this.#first
    if (ssrc === this.#ssrc && k >= 0 && k < this.#packets && blocks <= this.#blocks) {
      return k * this.#blocks * BLOCK
    }
    // A longer packet than the batch's widens the next batches of this SSRC
    const perPacket = ssrc === this.#ssrc ? Math.max(blocks, this.#blocks) : blocks
    const packets = Math.max(
      1,
      Math.min(KEYSTREAM_PACKETS, Math.floor(KEYSTREAM_BYTES / (perPacket * BLOCK)))
    )
    const size = packets * perPacket * BLOCK
    if (this.#counters.length < size) this.#counters = Buffer.alloc(size)
    const counters = this.#counters
    for (let p = 0; p < packets; p++) {
      this.#counterBlocks(counters, p * perPacket * BLOCK, ssrc, index + p, perPacket)
    }
    this.keystream = this.#ecb.update(
      size === counters.length ? counters : counters.subarray(0, size)
    )
    this.#ssrc = ssrc
    this.#first = index
    this.#packets = packets
    this.#blocks = perPacket
    return 0
  }
}

/** XORs `value` big-endian into `iv[at..at+4)`. */
function xorUint32(iv: Buffer, at: number, value: number) {
  iv[at] ^= value >>> 24
  iv[at + 1] ^= (value >>> 16) & 0xff
  iv[at + 2] ^= (value >>> 8) & 0xff
  iv[at + 3] ^= value & 0xff
}

/**
 * AES-CM counter blocks of one packet (RFC 3711 §4.1.1) at `at`: IV = (salt << 16) XOR
 * (SSRC << 64) XOR (index << 16), then a 16-bit block counter. SRTP's index is ROC << 16 | SEQ
 * (48 bits), SRTCP's its 31-bit SRTCP index: the same arithmetic.
 */
function aesCmCounterBlocks(
  salt: Buffer,
  counters: Buffer,
  at: number,
  ssrc: number,
  index: number,
  blocks: number
) {
  const first = at
  for (let i = 0; i < 14; i++) counters[first + i] = salt[i]
  xorUint32(counters, first + 4, ssrc)
  xorUint32(counters, first + 8, Math.floor(index / 0x10000) >>> 0)
  counters[first + 12] ^= (index >>> 8) & 0xff
  counters[first + 13] ^= index & 0xff
  for (let b = 0; b < blocks; b++, at += BLOCK) {
    if (b > 0) for (let i = 0; i < 14; i++) counters[at + i] = counters[first + i]
    counters[at + 14] = b >>> 8
    counters[at + 15] = b & 0xff
  }
}

/** XORs `keystream` from `at` over `src[from..to)` into `out` at the same offsets. */
function xorKeystream(
  src: Buffer,
  out: Buffer,
  from: number,
  to: number,
  keystream: Buffer,
  at: number
) {
  for (let i = from, k = at; i < to; i++, k++) out[i] = src[i] ^ keystream[k]
}

function newEcb(key: Buffer): Cipheriv {
  const ecb = createCipheriv('aes-128-ecb', createSecretKey(key), null)
  ecb.setAutoPadding(false)
  return ecb
}

class AesCmHmacSha1Context implements SrtpContext {
  readonly profile: 'AES_CM_128_HMAC_SHA1_80' | 'AES_CM_128_HMAC_SHA1_32'
  /** The HMAC-SHA1 tag truncated to 80 or 32 bits (RFC 3711 §5.2, RFC 4568 §6.2). */
  readonly overhead: number
  #batches: KeystreamBatches
  #hmac: HmacSha1
  #digest = Buffer.alloc(20)
  #rocs = new RocTable()

  constructor(
    masterKey: Buffer,
    masterSalt: Buffer,
    profile: 'AES_CM_128_HMAC_SHA1_80' | 'AES_CM_128_HMAC_SHA1_32' = 'AES_CM_128_HMAC_SHA1_80'
  ) {
    this.profile = profile
    this.overhead = profile === 'AES_CM_128_HMAC_SHA1_32' ? 4 : 10
    const key = deriveSessionKey(masterKey, masterSalt, 0, 16)
    this.#hmac = new HmacSha1(deriveSessionKey(masterKey, masterSalt, 1, 20))
    const salt = deriveSessionKey(masterKey, masterSalt, 2, 14)
    this.#batches = new KeystreamBatches(newEcb(key), (counters, at, ssrc, packetIndex, blocks) =>
      aesCmCounterBlocks(salt, counters, at, ssrc, packetIndex, blocks)
    )
  }

  /** XORs the AES-CM keystream for (ssrc, roc, seq) over `src[from..to)` into `out`. */
  #crypt(
    src: Buffer,
    out: Buffer,
    from: number,
    to: number,
    ssrc: number,
    roc: number,
    seq: number
  ) {
    const blocks = Math.ceil((to - from) / BLOCK)
    if (blocks === 0) return
    const at = this.#batches.at(ssrc, roc * 0x10000 + seq, blocks)
    xorKeystream(src, out, from, to, this.#batches.keystream, at)
  }

  protect(packet: Buffer, length: number, payloadOffset: number): Buffer {
    const ssrc = packet.readInt32BE(8)
    const seq = packet.readUInt16BE(2)
    const state = this.#rocs.get(ssrc, seq)
    const roc = this.#rocs.nextSendRoc(state, seq)
    const tagLength = this.overhead
    const out = Buffer.allocUnsafe(length + tagLength)
    packet.copy(out, 0, 0, payloadOffset)
    this.#crypt(packet, out, payloadOffset, length, ssrc, roc, seq)
    // The ROC is appended to the authenticated portion (RFC 3711 §4.2)
    this.#hmac.sign(out, length, roc, out, length, tagLength)
    return out
  }

  unprotect(packet: Buffer, length: number, payloadOffset: number): number {
    const tagLength = this.overhead
    const plainLength = length - tagLength
    if (plainLength < payloadOffset) return -1
    const ssrc = packet.readInt32BE(8)
    const seq = packet.readUInt16BE(2)
    const state = this.#rocs.get(ssrc, seq)
    const roc = estimateRoc(state, seq)
    const digest = this.#digest
    this.#hmac.sign(packet, plainLength, roc, digest, 0, tagLength)
    let diff = 0
    for (let i = 0; i < tagLength; i++) diff |= digest[i] ^ packet[plainLength + i]
    if (diff !== 0) return -1
    this.#crypt(packet, packet, payloadOffset, plainLength, ssrc, roc, seq)
    acceptRoc(state, roc, seq)
    return plainLength
  }
}

/**
 * GCM (NIST SP 800-38D) with a 96-bit IV, on counter blocks the context's long-lived ECB cipher
 * encrypts: J0 = IV || 1 first (E(K, J0) masks the tag), then inc32(J0), ... for the data.
 */
function gcmCounterBlocks(counters: Buffer, at: number, iv: Buffer, blocks: number) {
  for (let b = 1; b <= blocks; b++, at += BLOCK) {
    for (let i = 0; i < 12; i++) counters[at + i] = iv[i]
    counters[at + 12] = b >>> 24
    counters[at + 13] = (b >>> 16) & 0xff
    counters[at + 14] = (b >>> 8) & 0xff
    counters[at + 15] = b & 0xff
  }
}

/** Counter blocks for GCM over `bytes` of data: J0 and one per data block. */
const gcmBlocks = (bytes: number) => 1 + Math.ceil(bytes / BLOCK)

/** The GCM tag over (AAD, ciphertext) with E(K, J0) from a keystream made elsewhere. */
class GcmTag {
  #ghash: Ghash
  #expected = Buffer.alloc(BLOCK)

  /** `ecb`: the context's AES-128-ECB cipher, H = E(K, 0^128). */
  constructor(ecb: Cipheriv) {
    this.#ghash = new Ghash(ecb.update(Buffer.alloc(BLOCK)))
  }

  write(
    aad: Buffer,
    aadFrom: number,
    aadTo: number,
    data: Buffer,
    from: number,
    to: number,
    keystream: Buffer,
    j0At: number,
    out: Buffer,
    outAt: number
  ) {
    const ghash = this.#ghash
    ghash.reset()
    ghash.update(aad, aadFrom, aadTo)
    ghash.update(data, from, to)
    ghash.finish(aadTo - aadFrom, to - from, keystream, j0At, out, outAt)
  }

  /** Whether `tag[tagAt..tagAt+16)` is the tag, compared in constant time. */
  matches(
    aad: Buffer,
    aadFrom: number,
    aadTo: number,
    data: Buffer,
    from: number,
    to: number,
    keystream: Buffer,
    j0At: number,
    tag: Buffer,
    tagAt: number
  ): boolean {
    const expected = this.#expected
    this.write(aad, aadFrom, aadTo, data, from, to, keystream, j0At, expected, 0)
    let diff = 0
    for (let i = 0; i < BLOCK; i++) diff |= expected[i] ^ tag[tagAt + i]
    return diff === 0
  }
}

/** RFC 7714 AEAD_AES_128_GCM SRTP: AAD = the RTP header, the 16-byte tag after the ciphertext. */
class AesGcmContext implements SrtpContext {
  readonly profile = 'AEAD_AES_128_GCM' as const
  readonly overhead = 16
  #batches: KeystreamBatches
  #tag: GcmTag
  #salt: Buffer
  #iv = Buffer.alloc(12)
  #rocs = new RocTable()

  constructor(sessionKey: Buffer, sessionSalt: Buffer) {
    const ecb = newEcb(sessionKey)
    this.#tag = new GcmTag(ecb)
    this.#salt = sessionSalt
    this.#batches = new KeystreamBatches(ecb, (counters, at, ssrc, packetIndex, blocks) =>
      this.#counterBlocks(counters, at, ssrc, packetIndex, blocks)
    )
  }

  /** IV = (00 00 || SSRC || ROC || SEQ) XOR salt (RFC 7714 §8.1). */
  #counterBlocks(counters: Buffer, at: number, ssrc: number, packetIndex: number, blocks: number) {
    const iv = this.#iv
    iv.writeUInt16BE(0, 0)
    iv.writeUInt32BE(ssrc >>> 0, 2)
    iv.writeUInt32BE(Math.floor(packetIndex / 0x10000) >>> 0, 6)
    iv.writeUInt16BE(packetIndex & 0xffff, 10)
    for (let i = 0; i < 12; i++) iv[i] ^= this.#salt[i]
    gcmCounterBlocks(counters, at, iv, blocks)
  }

  protect(packet: Buffer, length: number, payloadOffset: number): Buffer {
    const ssrc = packet.readInt32BE(8)
    const seq = packet.readUInt16BE(2)
    const state = this.#rocs.get(ssrc, seq)
    const roc = this.#rocs.nextSendRoc(state, seq)
    const at = this.#batches.at(ssrc, roc * 0x10000 + seq, gcmBlocks(length - payloadOffset))
    const keystream = this.#batches.keystream
    const out = Buffer.allocUnsafe(length + 16)
    packet.copy(out, 0, 0, payloadOffset)
    xorKeystream(packet, out, payloadOffset, length, keystream, at + BLOCK)
    this.#tag.write(out, 0, payloadOffset, out, payloadOffset, length, keystream, at, out, length)
    return out
  }

  unprotect(packet: Buffer, length: number, payloadOffset: number): number {
    const plainLength = length - 16
    if (plainLength < payloadOffset) return -1
    const ssrc = packet.readInt32BE(8)
    const seq = packet.readUInt16BE(2)
    const state = this.#rocs.get(ssrc, seq)
    const roc = estimateRoc(state, seq)
    const blocks = gcmBlocks(plainLength - payloadOffset)
    const at = this.#batches.at(ssrc, roc * 0x10000 + seq, blocks)
    const keystream = this.#batches.keystream
    const tag = this.#tag
    if (
      !tag.matches(
        packet,
        0,
        payloadOffset,
        packet,
        payloadOffset,
        plainLength,
        keystream,
        at,
        packet,
        plainLength
      )
    ) {
      return -1
    }
    xorKeystream(packet, packet, payloadOffset, plainLength, keystream, at + BLOCK)
    acceptRoc(state, roc, seq)
    return plainLength
  }
}

export function createSrtpContext(
  profile: SrtpProfile,
  masterKey: Buffer,
  masterSalt: Buffer
): SrtpContext {
  return profile === 'AEAD_AES_128_GCM'
    ? new AesGcmContext(
        deriveSessionKey(masterKey, masterSalt, 0, 16),
        deriveSessionKey(masterKey, masterSalt, 2, 12)
      )
    : new AesCmHmacSha1Context(masterKey, masterSalt, profile)
}

/** GCM SRTP on given session keys: RFC 7714 §16's test vectors state those, not master keys. */
export function gcmSrtpWithSessionKeys(sessionKey: Buffer, sessionSalt: Buffer): SrtpContext {
  return new AesGcmContext(sessionKey, sessionSalt)
}

/**
 * SRTCP (RFC 3711 §3.4, RFC 7714 §9) for one direction: the session keys of labels 3-5, the
 * E flag and 31-bit SRTCP index after the (encrypted) compound packet, and a replay window per
 * SSRC. RTCP is a few packets per 5 s, so this favours plain code over the SRTP path's tricks.
 * With AES_CM_128_HMAC_SHA1_32 the SRTCP tag stays 80 bits (RFC 4568 §6.2.2). No MKI here:
 * the SDES receiver strips a peer's MKI.
 */
export interface SrtcpContext {
  readonly profile: SrtpProfile
  /** Bytes an SRTCP packet grows by: E|index and the tag. */
  readonly overhead: number
  /** Protects one compound RTCP packet; `encrypt` false sends it authenticated only (E = 0). */
  protect(packet: Buffer, length?: number, encrypt?: boolean): Buffer
  /**
   * Authenticates and decrypts in place; the plain RTCP length, or -1 when too short, forged
   * or a replay.
   */
  unprotect(packet: Buffer, length?: number): number
}

/** The RTCP header left in clear before the encrypted portion (RFC 3711 §3.4). */
const RTCP_CLEAR = 8
const SRTCP_INDEX_MASK = 0x7fffffff
const REPLAY_WINDOW = 64
/** SSRCs whose replay state we keep; a peer has one or two. */
const MAX_REPLAY_SSRCS = 16

/** RFC 3711 §3.3.2 replay list per SSRC: the highest index and a bitmask of the 64 below it. */
class ReplayWindow {
  #states = new Map<number, { highest: number; mask: bigint }>()

  fresh(ssrc: number, index: number): boolean {
    const state = this.#states.get(ssrc)
    if (!state) return true
    const delta = state.highest - index
    if (delta < 0) return true
    if (delta >= REPLAY_WINDOW) return false
    return (state.mask & (1n << BigInt(delta))) === 0n
  }

  accept(ssrc: number, index: number) {
    let state = this.#states.get(ssrc)
    if (!state) {
      if (this.#states.size >= MAX_REPLAY_SSRCS) return
      state = { highest: index, mask: 1n }
      this.#states.set(ssrc, state)
      return
    }
    const delta = index - state.highest
    if (delta > 0) {
      state.mask =
        delta >= REPLAY_WINDOW ? 1n : ((state.mask << BigInt(delta)) | 1n) & 0xffffffffffffffffn
      state.highest = index
    } else {
      state.mask |= 1n << BigInt(-delta)
    }
  }
}

abstract class SrtcpBase implements SrtcpContext {
  abstract readonly profile: SrtpProfile
  abstract readonly overhead: number
  /** The first packet has index 1, as libsrtp's, unless another transform sent before us. */
  #nextIndex: number
  #replay = new ReplayWindow()

  constructor(firstIndex = 1) {
    this.#nextIndex = firstIndex & SRTCP_INDEX_MASK
  }

  protected abstract seal(packet: Buffer, length: number, trailer: number, encrypt: boolean): Buffer
  /** The plain length, or -1; `trailer` is E|index as read. */
  protected abstract open(packet: Buffer, length: number, trailer: number): number

  protect(packet: Buffer, length = packet.length, encrypt = true): Buffer {
    if (length < RTCP_CLEAR) throw new RangeError('An RTCP packet has at least 8 bytes')
    const index = this.#nextIndex
    this.#nextIndex = (index + 1) & SRTCP_INDEX_MASK
    return this.seal(packet, length, (encrypt ? 0x80000000 : 0) | index, encrypt)
  }

  unprotect(packet: Buffer, length = packet.length): number {
    if (length < RTCP_CLEAR + this.overhead) return -1
    const ssrc = packet.readUInt32BE(4)
    const trailer = this.readTrailer(packet, length)
    const index = trailer & SRTCP_INDEX_MASK
    if (!this.#replay.fresh(ssrc, index)) return -1
    const plain = this.open(packet, length, trailer)
    if (plain >= 0) this.#replay.accept(ssrc, index)
    return plain
  }

  protected abstract readTrailer(packet: Buffer, length: number): number
}

class AesCmSrtcpContext extends SrtcpBase {
  readonly profile: 'AES_CM_128_HMAC_SHA1_80' | 'AES_CM_128_HMAC_SHA1_32'
  readonly overhead = 4 + 10
  /** One long-lived ECB cipher makes the keystream: no key set-up per report (as on the SRTP path). */
  #ecb: Cipheriv
  /** The SRTP path's JavaScript HMAC-SHA1 on precomputed key states: no node:crypto HMAC per report. */
  #auth: HmacSha1
  #salt: Buffer

  constructor(
    masterKey: Buffer,
    masterSalt: Buffer,
    profile: 'AES_CM_128_HMAC_SHA1_80' | 'AES_CM_128_HMAC_SHA1_32',
    firstIndex?: number
  ) {
    super(firstIndex)
    this.profile = profile
    this.#ecb = newEcb(deriveSessionKey(masterKey, masterSalt, 3, 16))
    this.#auth = new HmacSha1(deriveSessionKey(masterKey, masterSalt, 4, 20))
    this.#salt = deriveSessionKey(masterKey, masterSalt, 5, 14)
  }

  /**
   * AES-CM of `src[from..to)` into `out` at `from`, IV = (salt << 16) XOR (SSRC << 64) XOR
   * (index << 16): counter blocks IV + i made here and encrypted with ECB (a compound report
   * has far fewer than 2^16 blocks, so the counter never carries out of its low 16 bits).
   */
  #crypt(src: Buffer, from: number, to: number, out: Buffer, ssrc: number, index: number) {
    const length = to - from
    const blocks = Math.ceil(length / BLOCK)
    const counters = Buffer.alloc(blocks * BLOCK)
    aesCmCounterBlocks(this.#salt, counters, 0, ssrc, index, blocks)
    xorKeystream(src, out, from, to, this.#ecb.update(counters), 0)
  }

  /** The 80-bit tag of `authenticated` (the packet and E|index: at least 12 bytes). */
  #tag(authenticated: Buffer): Buffer {
    const tag = Buffer.allocUnsafe(10)
    const length = authenticated.length
    // The last 4 bytes (E|index) go in as the suffix the SRTP HMAC appends
    this.#auth.sign(authenticated, length - 4, authenticated.readUInt32BE(length - 4), tag, 0, 10)
    return tag
  }

  protected readTrailer(packet: Buffer, length: number): number {
    return packet.readUInt32BE(length - 14)
  }

  protected seal(packet: Buffer, length: number, trailer: number, encrypt: boolean): Buffer {
    const out = Buffer.allocUnsafe(length + this.overhead)
    packet.copy(out, 0, 0, length)
    if (encrypt) {
      this.#crypt(
        packet,
        RTCP_CLEAR,
        length,
        out,
        packet.readUInt32BE(4),
        trailer & SRTCP_INDEX_MASK
      )
    }
    out.writeUInt32BE(trailer >>> 0, length)
    this.#tag(out.subarray(0, length + 4)).copy(out, length + 4)
    return out
  }

  protected open(packet: Buffer, length: number, trailer: number): number {
    const plain = length - this.overhead
    const tag = this.#tag(packet.subarray(0, plain + 4))
    if (!timingSafeEqual(tag, packet.subarray(plain + 4, length))) return -1
    if (trailer & 0x80000000) {
      this.#crypt(
        packet,
        RTCP_CLEAR,
        plain,
        packet,
        packet.readUInt32BE(4),
        trailer & SRTCP_INDEX_MASK
      )
    }
    return plain
  }
}

/** RFC 7714 §9: AEAD_AES_128_GCM SRTCP, the tag right after the ciphertext, E|index after it. */
class AesGcmSrtcpContext extends SrtcpBase {
  readonly profile = 'AEAD_AES_128_GCM' as const
  readonly overhead = 16 + 4
  #ecb: Cipheriv
  #tag: GcmTag
  #salt: Buffer
  #counters = Buffer.alloc(0)

  constructor(sessionKey: Buffer, sessionSalt: Buffer, firstIndex?: number) {
    super(firstIndex)
    this.#ecb = newEcb(sessionKey)
    this.#tag = new GcmTag(this.#ecb)
    this.#salt = sessionSalt
  }

  /**
   * E(K, J0) and the keystream for `bytes` of data, one ECB call; IV = (00 00 || SSRC || 00 00 ||
   * 0 + SRTCP index) XOR salt (RFC 7714 §9.1).
   */
  #keystream(ssrc: number, index: number, bytes: number): Buffer {
    const iv = Buffer.alloc(12)
    iv.writeUInt32BE(ssrc >>> 0, 2)
    iv.writeUInt32BE(index & SRTCP_INDEX_MASK, 8)
    for (let i = 0; i < 12; i++) iv[i] ^= this.#salt[i]
    const blocks = gcmBlocks(bytes)
    if (this.#counters.length < blocks * BLOCK) this.#counters = Buffer.alloc(blocks * BLOCK)
    gcmCounterBlocks(this.#counters, 0, iv, blocks)
    return this.#ecb.update(this.#counters.subarray(0, blocks * BLOCK))
  }

  protected readTrailer(packet: Buffer, length: number): number {
    return packet.readUInt32BE(length - 4)
  }

  /** Encrypted: AAD = header || E|index; unencrypted (E = 0): AAD = the whole packet || E|index. */
  #aad(packet: Buffer, clear: number, trailer: number): Buffer {
    const aad = Buffer.allocUnsafe(clear + 4)
    packet.copy(aad, 0, 0, clear)
    aad.writeUInt32BE(trailer >>> 0, clear)
    return aad
  }

  protected seal(packet: Buffer, length: number, trailer: number, encrypt: boolean): Buffer {
    const clear = encrypt ? RTCP_CLEAR : length
    const keystream = this.#keystream(packet.readUInt32BE(4), trailer, length - clear)
    const out = Buffer.allocUnsafe(length + this.overhead)
    packet.copy(out, 0, 0, clear)
    xorKeystream(packet, out, clear, length, keystream, BLOCK)
    const aad = this.#aad(packet, clear, trailer)
    this.#tag.write(aad, 0, aad.length, out, clear, length, keystream, 0, out, length)
    out.writeUInt32BE(trailer >>> 0, length + 16)
    return out
  }

  protected open(packet: Buffer, length: number, trailer: number): number {
    const plain = length - this.overhead
    const clear = trailer & 0x80000000 ? RTCP_CLEAR : plain
    const keystream = this.#keystream(packet.readUInt32BE(4), trailer, plain - clear)
    const aad = this.#aad(packet, clear, trailer)
    if (!this.#tag.matches(aad, 0, aad.length, packet, clear, plain, keystream, 0, packet, plain)) {
      return -1
    }
    xorKeystream(packet, packet, clear, plain, keystream, BLOCK)
    return plain
  }
}

/** `firstIndex`: the SRTCP index of our first packet (above what another transform sent). */
export function createSrtcpContext(
  profile: SrtpProfile,
  masterKey: Buffer,
  masterSalt: Buffer,
  firstIndex = 1
): SrtcpContext {
  return profile === 'AEAD_AES_128_GCM'
    ? new AesGcmSrtcpContext(
        deriveSessionKey(masterKey, masterSalt, 3, 16),
        deriveSessionKey(masterKey, masterSalt, 5, 12),
        firstIndex
      )
    : new AesCmSrtcpContext(masterKey, masterSalt, profile, firstIndex)
}

/** GCM SRTCP on given session keys: RFC 7714 §17's test vectors state those, not master keys. */
export function gcmSrtcpWithSessionKeys(
  sessionKey: Buffer,
  sessionSalt: Buffer,
  firstIndex?: number
): SrtcpContext {
  return new AesGcmSrtcpContext(sessionKey, sessionSalt, firstIndex)
}
