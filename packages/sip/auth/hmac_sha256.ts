import { hash } from 'node:crypto'

const BLOCK = 64

/**
 * HMAC-SHA256 (RFC 2104) of short messages as two one-shot `crypto.hash` calls over the key's
 * padded blocks, made once. node:crypto's `createHmac` prepares its key object on every call,
 * which on Node 24 costs several times the hashing (tens of microseconds per nonce issued or
 * checked, issue 17); the result is the same bytes.
 */
export default class HmacSha256 {
  readonly #inner: Buffer
  readonly #outer: Buffer

  constructor(key: Buffer) {
    const material = key.length > BLOCK ? hash('sha256', key, 'buffer') : key
    this.#inner = Buffer.alloc(BLOCK, 0x36)
    this.#outer = Buffer.alloc(BLOCK + 32, 0x5c)
    for (const [i, byte] of material.entries()) {
      this.#inner[i] ^= byte
      this.#outer[i] ^= byte
    }
  }

  digest(message: string | Buffer): Buffer {
    const text = typeof message === 'string' ? Buffer.from(message) : message
    const inner = hash('sha256', Buffer.concat([this.#inner, text]), 'buffer')
    // A copy of the outer padded block, whose last 32 bytes take the inner digest.
    const outer = Buffer.from(this.#outer)
    inner.copy(outer, BLOCK)
    return hash('sha256', outer, 'buffer')
  }
}
