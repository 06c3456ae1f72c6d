import { randomBytes } from 'node:crypto'
import { crc32 } from 'node:zlib'
import { MEDIA_TIMERS, type CoalescedTimer, type TimerSource } from '#media/coalesced_timers'
import HmacSha1 from '#media/hmac_sha1'

/**
 * ICE consent freshness (RFC 7675) on the nominated pair of a connected WebRTC leg, both ways:
 * our STUN Binding requests every 4-6 s with consent lost 30 s after the last authenticated
 * answer, and answers to the peer's checks on that pair. The HMAC-SHA1 states of both ICE
 * passwords are computed once per leg (no node:crypto HMAC from a Buffer key per message, no
 * promise, AbortController or timer object per check); the checks of all legs share the media
 * engine's one coalesced timer. Everything else of ICE (new pairs, nominations, role conflicts,
 * ICE restarts, IPv6 answers) stays with werift: `receive` returns false for it.
 */

/** The clock the checks run on (monotonic ms); tests pass a fake one. */
export type ConsentClock = TimerSource

export const SYSTEM_CONSENT_CLOCK: ConsentClock = {
  now: () => performance.now(),
  setTimeout: (callback, ms) => MEDIA_TIMERS.setTimeout(callback, ms),
  clearTimeout: (handle) => MEDIA_TIMERS.clearTimeout(handle as CoalescedTimer),
}

/** RFC 7675 §5.1: a check every 5 s, randomised 0.8-1.2x; consent lost 30 s after the last answer. */
export const CONSENT_INTERVAL_MS = 5000
export const CONSENT_TIMEOUT_MS = 30_000

/** Where the nominated pair's datagrams go: the local socket and the peer's address. */
export interface ConsentSocket {
  send(packet: Buffer, port: number, address: string): void
}
export interface ConsentPath {
  socket: ConsentSocket
  address: string
  port: number
}

export interface IceConsentOptions {
  localUfrag: string
  localPassword: string
  remoteUfrag: string
  remotePassword: string
  /** Our ICE role now (werift may switch it on a role conflict). */
  controlling: () => boolean
  /** ICE-CONTROLLING/ICE-CONTROLLED's tie-breaker: the agent's own (random if not given). */
  tieBreaker?: bigint
  /** The nominated pair now; null when there is none (no check is sent). */
  path: () => ConsentPath | null
  /** Once, when the peer's consent expired; no check is sent after it. */
  onExpired: () => void
  clock?: ConsentClock
  intervalMs?: number
  timeoutMs?: number
  random?: () => number
}

const MAGIC_COOKIE = 0x2112a442
const FINGERPRINT_XOR = 0x5354554e
const BINDING_REQUEST = 0x0001
const BINDING_SUCCESS = 0x0101
const BINDING_ERROR = 0x0111
const ATTR_MAPPED_ADDRESS = 0x0001
const ATTR_USERNAME = 0x0006
const ATTR_ERROR_CODE = 0x0009
const ATTR_UNKNOWN_ATTRIBUTES = 0x000a
const ATTR_MESSAGE_INTEGRITY = 0x0008
const ATTR_XOR_MAPPED_ADDRESS = 0x0020
const ATTR_PRIORITY = 0x0024
const ATTR_USE_CANDIDATE = 0x0025
const ATTR_FINGERPRINT = 0x8028
const ATTR_ICE_CONTROLLED = 0x8029
const ATTR_ICE_CONTROLLING = 0x802a
/** RFC 8445 §5.1.2.1: a peer-reflexive candidate's priority (type 110, local 65535, component 1). */
const PRFLX_PRIORITY = 110 * 2 ** 24 + 65535 * 2 ** 8 + 255

/** What one pass over a STUN message found (offsets into it; -1 when absent). */
interface StunAttributes {
  username: number
  usernameLength: number
  integrity: number
  fingerprint: number
  controlling: boolean
  controlled: boolean
}

/**
 * Reads the attributes we need; null when the message is malformed, has an attribute after
 * FINGERPRINT or after MESSAGE-INTEGRITY other than FINGERPRINT, or a comprehension-required
 * attribute we do not know (werift decides about those).
 */
function readAttributes(message: Buffer): StunAttributes | null {
  const found: StunAttributes = {
    username: -1,
    usernameLength: 0,
    integrity: -1,
    fingerprint: -1,
    controlling: false,
    controlled: false,
  }
  const end = 20 + message.readUInt16BE(2)
  let offset = 20
  while (offset < end) {
    if (offset + 4 > end || found.fingerprint >= 0) return null
    const type = message.readUInt16BE(offset)
    const length = message.readUInt16BE(offset + 2)
    const value = offset + 4
    if (value + length > end) return null
    if (found.integrity >= 0 && type !== ATTR_FINGERPRINT) return null
    switch (type) {
      case ATTR_USERNAME:
        found.username = value
        found.usernameLength = length
        break
      case ATTR_MESSAGE_INTEGRITY:
        if (length !== 20) return null
        found.integrity = offset
        break
      case ATTR_FINGERPRINT:
        if (length !== 4) return null
        found.fingerprint = offset
        break
      case ATTR_ICE_CONTROLLING:
        found.controlling = true
        break
      case ATTR_ICE_CONTROLLED:
        found.controlled = true
        break
      case ATTR_PRIORITY:
      case ATTR_USE_CANDIDATE:
      case ATTR_XOR_MAPPED_ADDRESS:
      case ATTR_MAPPED_ADDRESS:
      case ATTR_ERROR_CODE:
      case ATTR_UNKNOWN_ATTRIBUTES:
        break
      default:
        // Comprehension-required attributes (below 0x8000) we do not know are werift's to refuse
        if (type < 0x8000) return null
    }
    offset = value + ((length + 3) & ~3)
  }
  return found
}

/**
 * Checks MESSAGE-INTEGRITY at `integrity` (RFC 8489 §14.5: the HMAC over the message before it,
 * with the header's length covering it) and FINGERPRINT if present. The length field is patched
 * for the HMAC and restored.
 */
function authentic(message: Buffer, integrity: number, fingerprint: number, key: HmacSha1) {
  const length = message.readUInt16BE(2)
  message.writeUInt16BE(integrity + 24 - 20, 2)
  const tag = Buffer.allocUnsafe(20)
  key.signPlain(message, integrity, tag, 0)
  message.writeUInt16BE(length, 2)
  if (!tag.equals(message.subarray(integrity + 4, integrity + 24))) return false
  if (fingerprint < 0) return true
  const expected = (crc32(message.subarray(0, fingerprint)) ^ FINGERPRINT_XOR) >>> 0
  return message.readUInt32BE(fingerprint + 4) === expected
}

/** Appends MESSAGE-INTEGRITY and FINGERPRINT to `message[0..length)`, whose header is written. */
function sealMessage(message: Buffer, length: number, key: HmacSha1): number {
  message.writeUInt16BE(length + 24 - 20, 2)
  message.writeUInt16BE(ATTR_MESSAGE_INTEGRITY, length)
  message.writeUInt16BE(20, length + 2)
  key.signPlain(message, length, message, length + 4)
  length += 24
  message.writeUInt16BE(length + 8 - 20, 2)
  message.writeUInt16BE(ATTR_FINGERPRINT, length)
  message.writeUInt16BE(4, length + 2)
  message.writeUInt32BE((crc32(message.subarray(0, length)) ^ FINGERPRINT_XOR) >>> 0, length + 4)
  return length + 8
}

export default class IceConsent {
  readonly #options: IceConsentOptions
  readonly #clock: ConsentClock
  readonly #intervalMs: number
  readonly #timeoutMs: number
  readonly #random: () => number
  /** Signs what we answer (the peer checks it with our password) and verifies its checks. */
  readonly #localKey: HmacSha1
  /** Signs our checks and verifies the answers (the peer's password). */
  readonly #remoteKey: HmacSha1
  /** USERNAME of the peer's checks to us ("ours:theirs") and of ours to it ("theirs:ours"). */
  readonly #inboundUsername: Buffer
  readonly #outboundUsername: Buffer
  readonly #tieBreaker: bigint
  /** Transaction ids of our checks still answerable (sent within the timeout), oldest first. */
  #pending: { id: Buffer; sentAt: number }[] = []
  #timer: unknown = null
  #nextCheckAt = 0
  #freshAt = 0
  #running = false
  #expired = false
  /** Our checks sent, authenticated answers to them, peer checks answered (for tests and stats). */
  checksSent = 0
  responsesReceived = 0
  checksAnswered = 0

  constructor(options: IceConsentOptions) {
    this.#options = options
    this.#clock = options.clock ?? SYSTEM_CONSENT_CLOCK
    this.#intervalMs = options.intervalMs ?? CONSENT_INTERVAL_MS
    this.#timeoutMs = options.timeoutMs ?? CONSENT_TIMEOUT_MS
    this.#random = options.random ?? Math.random
    this.#localKey = new HmacSha1(Buffer.from(options.localPassword, 'utf8'))
    this.#remoteKey = new HmacSha1(Buffer.from(options.remotePassword, 'utf8'))
    this.#inboundUsername = Buffer.from(`${options.localUfrag}:${options.remoteUfrag}`, 'utf8')
    this.#outboundUsername = Buffer.from(`${options.remoteUfrag}:${options.localUfrag}`, 'utf8')
    this.#tieBreaker = options.tieBreaker ?? randomBytes(8).readBigUInt64BE(0)
  }

  get expired() {
    return this.#expired
  }

  /** Consent is fresh from now (ICE's own successful check counts as the first answer). */
  start() {
    if (this.#running || this.#expired) return
    this.#running = true
    const now = this.#clock.now()
    this.#freshAt = now
    this.#nextCheckAt = now + this.#randomInterval()
    this.#arm(now)
  }

  stop() {
    this.#running = false
    this.#pending = []
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer)
    this.#timer = null
  }

  /**
   * A STUN message that came on `socket` from `address`:`port`. True when it was ours to handle:
   * an answer to one of our checks (authenticated: consent refreshed), or the peer's check on the
   * nominated pair (answered). False for everything else, which goes on to werift.
   */
  receive(message: Buffer, address: string, port: number, socket: ConsentSocket): boolean {
    if (!this.#running || message.length < 20 || (message.length & 3) !== 0) return false
    if (message.readUInt32BE(4) !== MAGIC_COOKIE) return false
    if (20 + message.readUInt16BE(2) !== message.length) return false
    const type = message.readUInt16BE(0)
    if (type === BINDING_SUCCESS || type === BINDING_ERROR) return this.#onAnswer(message, type)
    if (type !== BINDING_REQUEST) return false
    const path = this.#options.path()
    if (path === null || path.socket !== socket || path.port !== port || path.address !== address)
      return false
    return this.#onCheck(message, address, port, socket)
  }

  #onAnswer(message: Buffer, type: number): boolean {
    const index = this.#pending.findIndex((check) => check.id.equals(message.subarray(8, 20)))
    if (index < 0) return false
    const attributes = readAttributes(message)
    if (attributes === null || attributes.integrity < 0) return true
    if (!authentic(message, attributes.integrity, attributes.fingerprint, this.#remoteKey))
      return true
    // An error answer (a role conflict) is werift's business no more: it gives no consent
    this.#pending.splice(index, 1)
    if (type !== BINDING_SUCCESS) return true
    this.responsesReceived++
    this.#freshAt = this.#clock.now()
    return true
  }

  /** The peer's check on the nominated pair: answered if it is authentic and no role conflict. */
  #onCheck(message: Buffer, address: string, port: number, socket: ConsentSocket): boolean {
    // XOR-MAPPED-ADDRESS for IPv6 is left to werift
    if (address.includes(':')) return false
    const attributes = readAttributes(message)
    if (attributes === null || attributes.integrity < 0 || attributes.username < 0) return false
    const username = this.#inboundUsername
    if (
      attributes.usernameLength !== username.length ||
      !username.equals(
        message.subarray(attributes.username, attributes.username + attributes.usernameLength)
      )
    )
      return false
    const controlling = this.#options.controlling()
    if ((controlling && attributes.controlling) || (!controlling && attributes.controlled))
      return false
    if (!authentic(message, attributes.integrity, attributes.fingerprint, this.#localKey))
      return false
    // Binding success: header, XOR-MAPPED-ADDRESS (IPv4), MESSAGE-INTEGRITY, FINGERPRINT
    const answer = Buffer.allocUnsafe(20 + 12 + 24 + 8)
    answer.writeUInt16BE(BINDING_SUCCESS, 0)
    message.copy(answer, 4, 4, 20)
    answer.writeUInt16BE(ATTR_XOR_MAPPED_ADDRESS, 20)
    answer.writeUInt16BE(8, 22)
    answer.writeUInt16BE(0x0001, 24)
    answer.writeUInt16BE(port ^ (MAGIC_COOKIE >>> 16), 26)
    let ip = 0
    for (const part of address.split('.')) ip = ip * 256 + Number(part)
    answer.writeUInt32BE((ip ^ MAGIC_COOKIE) >>> 0, 28)
    sealMessage(answer, 32, this.#localKey)
    socket.send(answer, port, address)
    this.checksAnswered++
    return true
  }

  #randomInterval() {
    return this.#intervalMs * (0.8 + 0.4 * this.#random())
  }

  #arm(now: number) {
    const due = Math.min(this.#nextCheckAt, this.#freshAt + this.#timeoutMs)
    this.#timer = this.#clock.setTimeout(this.#tick, Math.max(0, due - now))
  }

  #tick = () => {
    this.#timer = null
    if (!this.#running) return
    const now = this.#clock.now()
    if (now - this.#freshAt >= this.#timeoutMs) {
      this.stop()
      this.#expired = true
      this.#options.onExpired()
      return
    }
    if (now >= this.#nextCheckAt) {
      this.#nextCheckAt = now + this.#randomInterval()
      this.#sendCheck(now)
    }
    this.#arm(now)
  }

  #sendCheck(now: number) {
    const path = this.#options.path()
    if (path === null) return
    const pending = this.#pending
    while (pending.length > 0 && now - pending[0].sentAt >= this.#timeoutMs) pending.shift()
    const username = this.#outboundUsername
    const padded = (username.length + 3) & ~3
    // Header, USERNAME, PRIORITY, ICE-CONTROLLING or ICE-CONTROLLED, MESSAGE-INTEGRITY, FINGERPRINT
    const request = Buffer.alloc(20 + 4 + padded + 8 + 12 + 24 + 8)
    request.writeUInt16BE(BINDING_REQUEST, 0)
    request.writeUInt32BE(MAGIC_COOKIE, 4)
    const id = randomBytes(12)
    id.copy(request, 8)
    let offset = 20
    request.writeUInt16BE(ATTR_USERNAME, offset)
    request.writeUInt16BE(username.length, offset + 2)
    username.copy(request, offset + 4)
    offset += 4 + padded
    request.writeUInt16BE(ATTR_PRIORITY, offset)
    request.writeUInt16BE(4, offset + 2)
    request.writeUInt32BE(PRFLX_PRIORITY, offset + 4)
    offset += 8
    const role = this.#options.controlling() ? ATTR_ICE_CONTROLLING : ATTR_ICE_CONTROLLED
    request.writeUInt16BE(role, offset)
    request.writeUInt16BE(8, offset + 2)
    request.writeBigUInt64BE(this.#tieBreaker, offset + 4)
    offset += 12
    const length = sealMessage(request, offset, this.#remoteKey)
    pending.push({ id, sentAt: now })
    this.checksSent++
    try {
      path.socket.send(request.subarray(0, length), path.port, path.address)
    } catch {
      // The socket is closed (the leg is closing): no answer will come, consent runs out
    }
  }
}
