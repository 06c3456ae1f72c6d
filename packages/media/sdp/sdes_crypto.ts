import { randomBytes } from 'node:crypto'
import { inspect } from 'node:util'

/**
 * SDES (RFC 4568) `a=crypto` attributes: reading a peer's, writing ours. Part of the one place
 * where peer SDP is read (audio_sdp.ts calls in here). A line we cannot use is not an error of
 * the whole SDP: it is returned as a rejection with a reason, and the leg decides (488 when no
 * line is usable). Reasons never quote the key material.
 */

/** The SDES suites we can run with our SRTP transform (names as in RFC 4568 §6.2, RFC 7714 §12). */
export type SdesSuite = 'AES_CM_128_HMAC_SHA1_80' | 'AES_CM_128_HMAC_SHA1_32' | 'AEAD_AES_128_GCM'

/** Master key and salt lengths in bytes per suite. */
export const SDES_SUITES: Record<SdesSuite, { keyLength: number; saltLength: number }> = {
  AES_CM_128_HMAC_SHA1_80: { keyLength: 16, saltLength: 14 },
  AES_CM_128_HMAC_SHA1_32: { keyLength: 16, saltLength: 14 },
  AEAD_AES_128_GCM: { keyLength: 16, saltLength: 12 },
}

/** Suites named in RFC 4568 and its successors that we know but do not run (a clearer reason). */
const KNOWN_UNSUPPORTED = new Set([
  'F8_128_HMAC_SHA1_80',
  'AES_192_CM_HMAC_SHA1_80',
  'AES_192_CM_HMAC_SHA1_32',
  'AES_256_CM_HMAC_SHA1_80',
  'AES_256_CM_HMAC_SHA1_32',
  'AEAD_AES_256_GCM',
])

/**
 * Session parameters we can honour: WSH is a hint (RFC 4568 §6.3.6); UNENCRYPTED_SRTCP (§6.3.2)
 * is honoured: we answer it and send our SRTCP authenticated only (E = 0).
 */
const HARMLESS_SESSION_PARAMS = /^(WSH=\d{1,10}|UNENCRYPTED_SRTCP)$/

/** RFC 4568 §6.1: at most 2^48 packets for SRTP. */
const MAX_LIFETIME = 2 ** 48

/** More lines than any real offer has; the rest are ignored. */
export const MAX_CRYPTO_LINES = 16

/**
 * One side's master key and salt. Kept out of logs: inspect and JSON show only the suite, so a
 * negotiated description logged by mistake does not leak the key.
 */
export class SdesKey {
  readonly suite: SdesSuite
  readonly #key: Buffer
  readonly #salt: Buffer

  constructor(suite: SdesSuite, key: Buffer, salt: Buffer) {
    const lengths = SDES_SUITES[suite]
    if (key.length !== lengths.keyLength || salt.length !== lengths.saltLength) {
      throw new RangeError(
        `${suite} needs a ${lengths.keyLength}-byte key and a ${lengths.saltLength}-byte salt`
      )
    }
    this.suite = suite
    this.#key = key
    this.#salt = salt
  }

  /** A fresh random key for one leg and suite; `random` is a seam for tests. */
  static generate(suite: SdesSuite, random: (size: number) => Buffer = randomBytes): SdesKey {
    const { keyLength, saltLength } = SDES_SUITES[suite]
    const material = random(keyLength + saltLength)
    return new SdesKey(
      suite,
      Buffer.from(material.subarray(0, keyLength)),
      Buffer.from(material.subarray(keyLength))
    )
  }

  get masterKey(): Buffer {
    return this.#key
  }

  get masterSalt(): Buffer {
    return this.#salt
  }

  /** base64(key || salt), the `inline:` value. */
  toInline(): string {
    return Buffer.concat([this.#key, this.#salt]).toString('base64')
  }

  equals(other: SdesKey): boolean {
    return (
      this.suite === other.suite && this.#key.equals(other.#key) && this.#salt.equals(other.#salt)
    )
  }

  toJSON() {
    return { suite: this.suite, key: '[redacted]' }
  }

  [inspect.custom]() {
    return `SdesKey<${this.suite}, redacted>`
  }
}

/** A usable crypto line from a peer. */
export interface SdesCrypto {
  tag: number
  suite: SdesSuite
  key: SdesKey
  /** Packets the key may protect (RFC 4568 §6.1); null when not given (the suite's maximum). */
  lifetime: number | null
  /** Master key identifier carried in every SRTP packet of this key (RFC 3711 §3.1). */
  mki: Buffer | null
  /** UNENCRYPTED_SRTCP: SRTCP of this stream is authenticated, not encrypted (RFC 4568 §6.3.2). */
  unencryptedSrtcp?: boolean
}

/** A crypto line we cannot use, and why. */
export interface SdesRejection {
  tag: number | null
  reason: string
}

export type CryptoLineResult =
  { ok: true; crypto: SdesCrypto } | { ok: false; rejection: SdesRejection }

const reject = (tag: number | null, reason: string): CryptoLineResult => ({
  ok: false,
  rejection: { tag, reason },
})

function isSupportedSuite(suite: string): suite is SdesSuite {
  return Object.hasOwn(SDES_SUITES, suite)
}

/** `2^n` or a decimal packet count, at most 2^48. */
function parseLifetime(value: string): number | null {
  const power = /^2\^(\d{1,2})$/.exec(value)
  const lifetime = power
    ? 2 ** Number(power[1])
    : /^\d{1,15}$/.test(value)
      ? Number(value)
      : Number.NaN
  return lifetime >= 1 && lifetime <= MAX_LIFETIME ? lifetime : null
}

/** `value:length`: the MKI as `length` big-endian bytes (1..128), or null when malformed. */
function parseMki(value: string): Buffer | null {
  const match = /^(\d{1,310}):(\d{1,3})$/.exec(value)
  if (!match) return null
  const length = Number(match[2])
  if (length < 1 || length > 128) return null
  let mki = BigInt(match[1])
  if (mki >= 1n << BigInt(length * 8)) return null
  const bytes = Buffer.alloc(length)
  for (let i = length - 1; i >= 0; i--) {
    bytes[i] = Number(mki & 0xffn)
    mki >>= 8n
  }
  return bytes
}

/** Strict base64 (padding optional), so that a typo is not silently decoded into another key. */
function decodeKeySalt(text: string): Buffer | null {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return null
  const bytes = Buffer.from(text, 'base64')
  const canonical = bytes.toString('base64')
  return canonical === text || canonical.replace(/=+$/, '') === text ? bytes : null
}

/**
 * Reads the value of one `a=crypto:` attribute (everything after the colon):
 * `<tag> <crypto-suite> inline:<key||salt>[|<lifetime>][|<mki>:<length>] [session-params]`.
 */
export function parseCryptoAttribute(value: string): CryptoLineResult {
  const fields = value.trim().split(/[ \t]+/)
  const tagText = fields[0] ?? ''
  if (!/^\d{1,9}$/.test(tagText)) return reject(null, 'the tag is not a number of 1 to 9 digits')
  const tag = Number(tagText)
  if (fields.length < 3) return reject(tag, 'a crypto suite and key parameters are required')
  const suite = fields[1]
  if (!/^[A-Za-z0-9_]{1,64}$/.test(suite)) return reject(tag, 'the crypto suite name is malformed')
  if (!isSupportedSuite(suite)) {
    return reject(
      tag,
      KNOWN_UNSUPPORTED.has(suite)
        ? `crypto suite ${suite} is not supported`
        : `unknown crypto suite ${suite}`
    )
  }
  const keyParams = fields[2].split(';')
  if (keyParams.length > 1)
    return reject(tag, 'several master keys (MKI key selection) are not supported')
  const param = keyParams[0]
  if (!param.startsWith('inline:')) return reject(tag, 'only the inline key method is supported')
  const [keySalt, ...extras] = param.slice('inline:'.length).split('|')
  const decoded = decodeKeySalt(keySalt)
  const { keyLength, saltLength } = SDES_SUITES[suite]
  if (!decoded) return reject(tag, 'the inline key is not valid base64')
  if (decoded.length !== keyLength + saltLength) {
    return reject(
      tag,
      `the inline key has ${decoded.length} bytes, ${suite} needs ${keyLength + saltLength}`
    )
  }
  // key||salt, then an optional lifetime, then an optional MKI, in that order
  if (extras.length > 2) return reject(tag, 'too many "|" fields after the inline key')
  let lifetimeText: string | null = null
  let mkiText: string | null = null
  if (extras.length === 2) [lifetimeText, mkiText] = extras
  else if (extras.length === 1 && extras[0].includes(':')) mkiText = extras[0]
  else if (extras.length === 1) lifetimeText = extras[0]
  if (lifetimeText?.includes(':') || (mkiText !== null && !mkiText.includes(':'))) {
    return reject(tag, 'after the inline key come the lifetime, then the MKI')
  }
  const lifetime = lifetimeText === null ? null : parseLifetime(lifetimeText)
  if (lifetimeText !== null && lifetime === null)
    return reject(tag, 'the key lifetime is malformed or above 2^48')
  const mki = mkiText === null ? null : parseMki(mkiText)
  if (mkiText !== null && mki === null)
    return reject(tag, 'the MKI is malformed (value:length, length 1 to 128 bytes)')
  for (const sessionParam of fields.slice(3)) {
    if (!HARMLESS_SESSION_PARAMS.test(sessionParam)) {
      return reject(
        tag,
        `session parameter ${sessionParam.split('=')[0].slice(0, 32)} is not supported`
      )
    }
  }
  const key = new SdesKey(suite, decoded.subarray(0, keyLength), decoded.subarray(keyLength))
  const crypto: SdesCrypto = { tag, suite, key, lifetime, mki }
  if (fields.slice(3).includes('UNENCRYPTED_SRTCP')) crypto.unencryptedSrtcp = true
  return { ok: true, crypto }
}

/**
 * Our attribute value (after `a=`): `crypto:<tag> <suite> inline:<key||salt>`, with
 * UNENCRYPTED_SRTCP when we answer a line that has it.
 */
export function cryptoAttribute(tag: number, key: SdesKey, unencryptedSrtcp = false): string {
  const params = unencryptedSrtcp ? ' UNENCRYPTED_SRTCP' : ''
  return `crypto:${tag} ${key.suite} inline:${key.toInline()}${params}`
}
