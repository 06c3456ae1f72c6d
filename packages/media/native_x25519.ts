import { createRequire } from 'node:module'
import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync } from 'node:crypto'

/**
 * werift's DTLS agrees its keys with X25519 (what Chromium offers first) through tweetnacl, in
 * JavaScript: a key pair and a shared secret cost about 1.4 ms of CPU per handshake here, 6.5 %
 * of a web phone call's set-up on the server (bench/b2bua_calls.ts --kind web, profile of the
 * calls, 2026-12-03). node:crypto does the same curve natively in about a sixth of that. werift
 * calls the two functions on tweetnacl's module object at every handshake (its ESM build imports
 * the CommonJS module, one object per process), so they are put behind node:crypto there: same
 * arguments, same bytes out (RFC 7748; the unit test compares both on random keys). What
 * node:crypto refuses (a low-order point: an all-zero secret, RFC 7748 §6.1) goes to tweetnacl's
 * own code as before. Idempotent; nothing else in the process calls these two functions.
 */

interface Nacl {
  scalarMult: ((secretKey: Uint8Array, publicKey: Uint8Array) => Uint8Array) & {
    base?: unknown
  }
  box: {
    keyPair: (() => { publicKey: Uint8Array; secretKey: Uint8Array }) & {
      fromSecretKey?: unknown
    }
  }
}

const NATIVE = Symbol.for('fluffycall.native-x25519')

/** DER of an X25519 key without its 32 raw bytes (RFC 8410: PKCS #8 private, SPKI public). */
const PRIVATE_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex')
const PUBLIC_PREFIX = Buffer.from('302a300506032b656e032100', 'hex')

function sharedSecret(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  const privateKey = createPrivateKey({
    key: Buffer.concat([PRIVATE_PREFIX, secretKey]),
    format: 'der',
    type: 'pkcs8',
  })
  const peer = createPublicKey({
    key: Buffer.concat([PUBLIC_PREFIX, publicKey]),
    format: 'der',
    type: 'spki',
  })
  return new Uint8Array(diffieHellman({ privateKey, publicKey: peer }))
}

function keyPair(): { publicKey: Uint8Array; secretKey: Uint8Array } {
  const { privateKey } = generateKeyPairSync('x25519')
  const jwk = privateKey.export({ format: 'jwk' })
  return {
    publicKey: new Uint8Array(Buffer.from(jwk.x!, 'base64url')),
    secretKey: new Uint8Array(Buffer.from(jwk.d!, 'base64url')),
  }
}

/** Puts node:crypto's X25519 behind tweetnacl's scalarMult and box.keyPair (see above). */
export function useNativeX25519(): void {
  const nacl = createRequire(import.meta.url)('tweetnacl') as Nacl & { [NATIVE]?: true }
  if (nacl[NATIVE]) return
  const scalarMult = nacl.scalarMult
  const native = (secretKey: Uint8Array, publicKey: Uint8Array) => {
    if (secretKey.length !== 32 || publicKey.length !== 32) return scalarMult(secretKey, publicKey)
    try {
      return sharedSecret(secretKey, publicKey)
    } catch {
      return scalarMult(secretKey, publicKey)
    }
  }
  nacl.scalarMult = Object.assign(native, scalarMult)
  nacl.box.keyPair = Object.assign(keyPair, nacl.box.keyPair)
  nacl[NATIVE] = true
}
