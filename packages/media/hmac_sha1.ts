/**
 * HMAC-SHA1 (RFC 2104, FIPS 180-4) in plain JavaScript for the SRTP authentication tag, with the
 * key's inner and outer states computed once. For a 172-byte RTP packet that is four SHA-1
 * blocks and no allocation; node:crypto's one-shot `hash` costs about 2 us per call on Node 24
 * (mostly call overhead, not hashing), and HMAC needs two of them.
 */

import { hash } from 'node:crypto'

const INITIAL = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0]

export default class HmacSha1 {
  #inner = new Int32Array(5)
  #outer = new Int32Array(5)
  #h = new Int32Array(5)
  #w = new Int32Array(80)
  /** The message's last bytes, the 4-byte suffix and the padding: at most two blocks. */
  #tail = new Uint8Array(128)
  #outerBlock = new Uint8Array(64)

  /** `key`: SRTP's are 20 bytes; a key longer than the 64-byte block is hashed first (RFC 2104). */
  constructor(key: Uint8Array) {
    if (key.length > 64) key = hash('sha1', key, 'buffer')
    const pad = new Uint8Array(64)
    for (let i = 0; i < 64; i++) pad[i] = (key[i] ?? 0) ^ 0x36
    this.#inner.set(INITIAL)
    this.#compress(this.#inner, pad, 0)
    for (let i = 0; i < 64; i++) pad[i] = (key[i] ?? 0) ^ 0x5c
    this.#outer.set(INITIAL)
    this.#compress(this.#outer, pad, 0)
  }

  /**
   * HMAC over `data[0..length)` followed by `suffix` as 4 bytes big-endian (SRTP's ROC, RFC 3711
   * §4.2); the first `tagLength` bytes (at most 20) go to `out` at `outOffset`.
   */
  sign(
    data: Uint8Array,
    length: number,
    suffix: number,
    out: Uint8Array,
    outOffset: number,
    tagLength: number
  ) {
    const h = this.#h
    const tail = this.#tail
    let n = this.#absorb(data, length)
    tail[n++] = suffix >>> 24
    tail[n++] = (suffix >>> 16) & 0xff
    tail[n++] = (suffix >>> 8) & 0xff
    tail[n++] = suffix & 0xff
    this.#finish(h, tail, n, 64 + length + 4)

    this.#outerDigest(h, out, outOffset, tagLength)
  }

  /**
   * HMAC over `data[0..length)` alone (STUN's MESSAGE-INTEGRITY, RFC 8489 §14.5); all 20 bytes go
   * to `out` at `outOffset`.
   */
  signPlain(data: Uint8Array, length: number, out: Uint8Array, outOffset: number) {
    const h = this.#h
    this.#finish(h, this.#tail, this.#absorb(data, length), 64 + length)
    this.#outerDigest(h, out, outOffset, 20)
  }

  /** The inner hash over `data`'s whole blocks; its last bytes copied to the tail, their count returned. */
  #absorb(data: Uint8Array, length: number): number {
    const h = this.#h
    h.set(this.#inner)
    let pos = 0
    for (; length - pos >= 64; pos += 64) this.#compress(h, data, pos)
    const tail = this.#tail
    let n = 0
    while (pos < length) tail[n++] = data[pos++]
    return n
  }

  /** The outer hash over the inner digest in `h`; its first `tagLength` bytes to `out`. */
  #outerDigest(h: Int32Array, out: Uint8Array, outOffset: number, tagLength: number) {
    const block = this.#outerBlock
    for (let i = 0; i < 5; i++) {
      const word = h[i]
      block[i * 4] = word >>> 24
      block[i * 4 + 1] = (word >>> 16) & 0xff
      block[i * 4 + 2] = (word >>> 8) & 0xff
      block[i * 4 + 3] = word & 0xff
    }
    h.set(this.#outer)
    this.#finish(h, block, 20, 64 + 20)
    for (let i = 0; i < tagLength; i++)
      out[outOffset + i] = (h[i >> 2] >>> (24 - (i & 3) * 8)) & 0xff
  }

  /** Pads `buffer[0..n)`, the message's last bytes, with the total length and hashes it. */
  #finish(h: Int32Array, buffer: Uint8Array, n: number, totalBytes: number) {
    buffer[n++] = 0x80
    const end = n + 8 <= 64 ? 64 : 128
    while (n < end - 8) buffer[n++] = 0
    const bits = totalBytes * 8
    const high = Math.floor(bits / 0x1_0000_0000)
    buffer[end - 8] = high >>> 24
    buffer[end - 7] = (high >>> 16) & 0xff
    buffer[end - 6] = (high >>> 8) & 0xff
    buffer[end - 5] = high & 0xff
    buffer[end - 4] = bits >>> 24
    buffer[end - 3] = (bits >>> 16) & 0xff
    buffer[end - 2] = (bits >>> 8) & 0xff
    buffer[end - 1] = bits & 0xff
    this.#compress(h, buffer, 0)
    if (end === 128) this.#compress(h, buffer, 64)
  }

  #compress(h: Int32Array, src: Uint8Array, offset: number) {
    const w = this.#w
    for (let i = 0, o = offset; i < 16; i++, o += 4) {
      w[i] = (src[o] << 24) | (src[o + 1] << 16) | (src[o + 2] << 8) | src[o + 3]
    }
    for (let i = 16; i < 80; i++) {
      const x = w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]
      w[i] = (x << 1) | (x >>> 31)
    }
    let a = h[0]
    let b = h[1]
    let c = h[2]
    let d = h[3]
    let e = h[4]
    let t: number
    for (let i = 0; i < 20; i++) {
      t = (((a << 5) | (a >>> 27)) + ((b & c) | (~b & d)) + e + 0x5a827999 + w[i]) | 0
      e = d
      d = c
      c = (b << 30) | (b >>> 2)
      b = a
      a = t
    }
    for (let i = 20; i < 40; i++) {
      t = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0x6ed9eba1 + w[i]) | 0
      e = d
      d = c
      c = (b << 30) | (b >>> 2)
      b = a
      a = t
    }
    for (let i = 40; i < 60; i++) {
      t = (((a << 5) | (a >>> 27)) + ((b & c) | (b & d) | (c & d)) + e + 0x8f1bbcdc + w[i]) | 0
      e = d
      d = c
      c = (b << 30) | (b >>> 2)
      b = a
      a = t
    }
    for (let i = 60; i < 80; i++) {
      t = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0xca62c1d6 + w[i]) | 0
      e = d
      d = c
      c = (b << 30) | (b >>> 2)
      b = a
      a = t
    }
    h[0] = (h[0] + a) | 0
    h[1] = (h[1] + b) | 0
    h[2] = (h[2] + c) | 0
    h[3] = (h[3] + d) | 0
    h[4] = (h[4] + e) | 0
  }
}
