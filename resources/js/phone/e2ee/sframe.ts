/*
 * SFrame (RFC 9605) for the web phone's end-to-end encryption, cipher suite AES_128_GCM_SHA256_128
 * only, with WebCrypto: the header (section 4.3), the key and salt per KID (4.4.2), encryption and
 * decryption with the header as additional data (4.4.3, 4.4.4). No DOM: the transform worker and
 * the unit tests in Node use it alike.
 */

/** AES_128_GCM_SHA256_128 (RFC 9605 section 8.1). */
export const CIPHER_SUITE = 0x0004
const KEY_BYTES = 16
const NONCE_BYTES = 12
export const TAG_BYTES = 16

const encoder = new TextEncoder()

/** A WebCrypto key, named the same way in the browser's and in Node's types. */
export type WebCryptoKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>

/** Bytes WebCrypto accepts (a view over a plain ArrayBuffer). */
export type Bytes = Uint8Array<ArrayBuffer>

export function bytes(length: number): Bytes {
  return new Uint8Array(new ArrayBuffer(length))
}

export function concat(...parts: Uint8Array[]): Bytes {
  const out = bytes(parts.reduce((sum, part) => sum + part.length, 0))
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}

/** A header that cannot be read: the frame is not SFrame (or is cut short). */
export class SFrameHeaderError extends Error {}

export interface SFrameHeader {
  kid: bigint
  ctr: bigint
  /** The header's encoded length in bytes. */
  length: number
}

/** Minimal big-endian length of a value of 8 or more (1 to 8 bytes). */
function byteLength(value: bigint): number {
  let length = 1
  while (value >> BigInt(8 * length) > 0n) length++
  return length
}

function writeBigEndian(target: Uint8Array, offset: number, value: bigint, length: number) {
  for (let index = length - 1; index >= 0; index--) {
    target[offset + index] = Number(value & 0xffn)
    value >>= 8n
  }
}

function readBigEndian(source: Uint8Array, offset: number, length: number): bigint {
  let value = 0n
  for (let index = 0; index < length; index++)
    value = (value << 8n) | BigInt(source[offset + index])
  return value
}

const MAX_U64 = (1n << 64n) - 1n

/** The SFrame header for KID and CTR (RFC 9605 section 4.3): values below 8 ride in the config byte. */
export function encodeHeader(kid: bigint, ctr: bigint): Bytes {
  if (kid < 0n || kid > MAX_U64 || ctr < 0n || ctr > MAX_U64)
    throw new RangeError('KID and CTR are unsigned 64-bit values')
  const kidLength = kid < 8n ? 0 : byteLength(kid)
  const ctrLength = ctr < 8n ? 0 : byteLength(ctr)
  const header = bytes(1 + kidLength + ctrLength)
  const kidField = kidLength ? 0x80 | ((kidLength - 1) << 4) : Number(kid) << 4
  const ctrField = ctrLength ? 0x08 | (ctrLength - 1) : Number(ctr)
  header[0] = kidField | ctrField
  if (kidLength) writeBigEndian(header, 1, kid, kidLength)
  if (ctrLength) writeBigEndian(header, 1 + kidLength, ctr, ctrLength)
  return header
}

/** Reads the SFrame header at the start of `frame`. */
export function parseHeader(frame: Uint8Array): SFrameHeader {
  if (frame.length < 1) throw new SFrameHeaderError('empty frame')
  const config = frame[0]
  const kidLength = config & 0x80 ? ((config >> 4) & 0x07) + 1 : 0
  const ctrLength = config & 0x08 ? (config & 0x07) + 1 : 0
  const length = 1 + kidLength + ctrLength
  if (frame.length < length) throw new SFrameHeaderError('frame shorter than its header')
  const kid = kidLength ? readBigEndian(frame, 1, kidLength) : BigInt((config >> 4) & 0x07)
  const ctr = ctrLength ? readBigEndian(frame, 1 + kidLength, ctrLength) : BigInt(config & 0x07)
  return { kid, ctr, length }
}

/** HKDF-SHA-256 Expand of `length` bytes; `prk` is already an extracted secret. */
async function hkdfExpand(prk: Bytes, info: Bytes, length: number): Promise<Bytes> {
  // HKDF-Expand by hand: WebCrypto's HKDF always extracts first (with the salt given).
  const key = await crypto.subtle.importKey('raw', prk, { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
  ])
  const out = bytes(length)
  let previous = bytes(0)
  for (let block = 1, offset = 0; offset < length; block++) {
    const input = concat(previous, info, Uint8Array.of(block))
    previous = new Uint8Array(await crypto.subtle.sign('HMAC', key, input))
    out.set(previous.subarray(0, Math.min(previous.length, length - offset)), offset)
    offset += previous.length
  }
  return out
}

/** HKDF-SHA-256 Extract with an empty salt (RFC 5869: a string of zeros). */
async function hkdfExtract(salt: Bytes, ikm: Bytes): Promise<Bytes> {
  const key = await crypto.subtle.importKey(
    'raw',
    salt.length ? salt : bytes(32),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign']
  )
  return new Uint8Array(await crypto.subtle.sign('HMAC', key, ikm))
}

/** RFC 9605 section 4.4.2: the label is the text, the KID as 8 bytes and the suite as 2 bytes. */
function label(text: string, kid: bigint): Bytes {
  const suffix = bytes(10)
  writeBigEndian(suffix, 0, kid, 8)
  writeBigEndian(suffix, 8, BigInt(CIPHER_SUITE), 2)
  return concat(encoder.encode(text), suffix)
}

/** The raw sframe_key and sframe_salt of `baseKey` for `kid` (exported for the RFC's test vectors). */
export async function deriveKeyAndSalt(
  baseKey: Bytes,
  kid: bigint
): Promise<{ key: Bytes; salt: Bytes }> {
  const secret = await hkdfExtract(bytes(0), baseKey)
  return {
    key: await hkdfExpand(secret, label('SFrame 1.0 Secret key ', kid), KEY_BYTES),
    salt: await hkdfExpand(secret, label('SFrame 1.0 Secret salt ', kid), NONCE_BYTES),
  }
}

/** One KID's AES-GCM key (not extractable) and salt. */
export interface SFrameKey {
  kid: bigint
  key: WebCryptoKey
  salt: Bytes
}

export async function sframeKey(baseKey: Bytes, kid: bigint): Promise<SFrameKey> {
  const derived = await deriveKeyAndSalt(baseKey, kid)
  const key = await crypto.subtle.importKey('raw', derived.key, 'AES-GCM', false, [
    'encrypt',
    'decrypt',
  ])
  derived.key.fill(0)
  return { kid, key, salt: derived.salt }
}

/** nonce = sframe_salt XOR CTR (the counter big-endian, right-aligned in 12 bytes). */
function nonce(salt: Bytes, ctr: bigint): Bytes {
  const out = bytes(NONCE_BYTES)
  out.set(salt)
  for (let index = NONCE_BYTES - 1; index >= NONCE_BYTES - 8; index--) {
    out[index] ^= Number(ctr & 0xffn)
    ctr >>= 8n
  }
  return out
}

/** header || AES-GCM(plaintext) || tag, with header || metadata as additional data. */
export async function encryptFrame(
  key: SFrameKey,
  ctr: bigint,
  plaintext: Uint8Array,
  metadata: Uint8Array = new Uint8Array(0)
): Promise<Bytes> {
  const header = encodeHeader(key.kid, ctr)
  const sealed = await crypto.subtle.encrypt(
    {
      name: 'AES-GCM',
      iv: nonce(key.salt, ctr),
      additionalData: concat(header, metadata),
      tagLength: TAG_BYTES * 8,
    },
    key.key,
    concat(plaintext)
  )
  return concat(header, new Uint8Array(sealed))
}

/** The plaintext of an SFrame ciphertext; throws when the tag does not verify. */
export async function decryptFrame(
  key: SFrameKey,
  header: SFrameHeader,
  frame: Uint8Array,
  metadata: Uint8Array = new Uint8Array(0)
): Promise<Bytes> {
  if (frame.length < header.length + TAG_BYTES) throw new SFrameHeaderError('frame too short')
  const opened = await crypto.subtle.decrypt(
    {
      name: 'AES-GCM',
      iv: nonce(key.salt, header.ctr),
      additionalData: concat(frame.subarray(0, header.length), metadata),
      tagLength: TAG_BYTES * 8,
    },
    key.key,
    concat(frame.subarray(header.length))
  )
  return new Uint8Array(opened)
}

export { hkdfExpand, hkdfExtract }
