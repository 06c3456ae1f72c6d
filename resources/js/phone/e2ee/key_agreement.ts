/*
 * The key agreement of an end-to-end encrypted call between two web phones (issue 22, the contract
 * agreed between the web phone and the B2BUA): ephemeral ECDH on P-256, a hash commitment to the initiator's
 * public key (so a relay cannot search key pairs for a matching short code), HKDF-SHA-256 to one
 * SFrame base key per direction and a six-digit short authentication string. No DOM.
 */
import { bytes, concat, hkdfExpand, hkdfExtract, type Bytes, type WebCryptoKey } from './sframe.js'

const encoder = new TextEncoder()
const INFO_PREFIX = 'FluffyCall E2EE v1 '
/** A raw uncompressed P-256 public key: 0x04, x, y. */
const PUBLIC_KEY_BYTES = 65
const BASE_KEY_BYTES = 16

export type E2eeRole = 'initiator' | 'responder'

/** What the two base keys are called from one side: what it encrypts with, what it decrypts with. */
export interface CallKeys {
  sendKey: Bytes
  receiveKey: Bytes
  /** "123 456": both people read it aloud to see that nobody sits in between. */
  sas: string
}

export interface EphemeralKeyPair {
  privateKey: WebCryptoKey
  /** The raw uncompressed public key (65 bytes). */
  publicKey: Bytes
}

export function base64url(data: Uint8Array): string {
  let binary = ''
  for (const byte of data) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/** Decodes base64url; null for anything else (the peer's message is untrusted). */
export function fromBase64url(text: string): Bytes | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return null
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'))
  const out = bytes(binary.length)
  for (let index = 0; index < binary.length; index++) out[index] = binary.charCodeAt(index)
  return out
}

export async function sha256(data: Uint8Array): Promise<Bytes> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', concat(data)))
}

/** A fresh key pair for one exchange; the private key never leaves WebCrypto. */
export async function generateKeyPair(): Promise<EphemeralKeyPair> {
  const pair = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, [
    'deriveBits',
  ])
  const publicKey = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey))
  return { privateKey: pair.privateKey, publicKey }
}

/** The commitment the initiator sends first: SHA-256 of its raw public key. */
export function commitment(publicKey: Uint8Array): Promise<Bytes> {
  return sha256(publicKey)
}

/** Whether `publicKey` is what `hash` committed to (compared in constant time). */
export async function matchesCommitment(publicKey: Uint8Array, hash: Uint8Array): Promise<boolean> {
  const actual = await sha256(publicKey)
  if (actual.length !== hash.length) return false
  let difference = 0
  for (let index = 0; index < actual.length; index++) difference |= actual[index] ^ hash[index]
  return difference === 0
}

/** The peer's public key as WebCrypto takes it; throws for anything that is not a P-256 point. */
async function importPeerKey(raw: Uint8Array): Promise<WebCryptoKey> {
  if (raw.length !== PUBLIC_KEY_BYTES || raw[0] !== 0x04) throw new Error('not a P-256 public key')
  return crypto.subtle.importKey(
    'raw',
    concat(raw),
    { name: 'ECDH', namedCurve: 'P-256' },
    false,
    []
  )
}

/**
 * Both directions' SFrame base keys and the short code, from this side's key pair and the peer's
 * public key. salt = SHA-256(pk_I || pk_R); info names the direction.
 */
export async function deriveCallKeys(
  role: E2eeRole,
  own: EphemeralKeyPair,
  peerPublicKey: Uint8Array
): Promise<CallKeys> {
  const peer = await importPeerKey(peerPublicKey)
  const shared = bytes(32)
  shared.set(
    new Uint8Array(
      await crypto.subtle.deriveBits({ name: 'ECDH', public: peer }, own.privateKey, 256)
    )
  )
  const [initiatorKey, responderKey] =
    role === 'initiator' ? [own.publicKey, peerPublicKey] : [peerPublicKey, own.publicKey]
  const salt = await sha256(concat(initiatorKey, responderKey))
  const prk = await hkdfExtract(salt, shared)
  shared.fill(0)
  const expand = (info: string, length: number) =>
    hkdfExpand(prk, encoder.encode(INFO_PREFIX + info), length)
  const toResponder = await expand('initiator->responder', BASE_KEY_BYTES)
  const toInitiator = await expand('responder->initiator', BASE_KEY_BYTES)
  const sasBytes = await expand('SAS', 4)
  prk.fill(0)
  return {
    sendKey: role === 'initiator' ? toResponder : toInitiator,
    receiveKey: role === 'initiator' ? toInitiator : toResponder,
    sas: shortAuthenticationString(sasBytes),
  }
}

/** Six decimal digits from 32 bits (the modulo bias is below 1 in 4000), shown as "123 456". */
export function shortAuthenticationString(material: Uint8Array): string {
  const value = new DataView(material.buffer, material.byteOffset, 4).getUint32(0) % 1_000_000
  const digits = String(value).padStart(6, '0')
  return `${digits.slice(0, 3)} ${digits.slice(3)}`
}

/** The next base key of a direction (hash ratchet): HKDF(base, "FluffyCall E2EE v1 ratchet"). */
export async function ratchet(baseKey: Bytes): Promise<Bytes> {
  const prk = await hkdfExtract(bytes(0), baseKey)
  return hkdfExpand(prk, encoder.encode(INFO_PREFIX + 'ratchet'), BASE_KEY_BYTES)
}
