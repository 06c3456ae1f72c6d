/**
 * GHASH of GCM (NIST SP 800-38D §6.4) in plain JavaScript for SRTP's AEAD_AES_128_GCM (RFC 7714):
 * node:crypto cannot reuse a GCM context with a new IV, and a cipher per packet costs more than the
 * whole AES-CM path. Shoup's 8-bit table: the 256 multiples of the hash key H made once per key
 * (4 KB), then one table lookup and an 8-bit shift with a reduction lookup per byte; 32-bit
 * integers, no BigInt, no allocation per packet. The table lookups depend on the data (as in
 * other table-driven GHASH implementations without carry-less multiplication): acceptable for
 * SRTP, where the attacker does not share our CPU.
 */

/** What a byte shifted out at the low end folds back in (x^128 = x^7 + x^2 + x + 1), top word. */
const REDUCE = new Int32Array(256)
for (let r = 0; r < 256; r++) {
  // Shift a block holding only r in its last byte right by 8 bits, one bit at a time
  let low = r
  let top = 0
  for (let bit = 0; bit < 8; bit++) {
    const carry = low & 1
    low >>>= 1
    top >>>= 1
    if (carry) top ^= 0xe1000000
  }
  REDUCE[r] = top
}

export default class Ghash {
  /** table[b * 4 .. b * 4 + 3] = b · H, the byte's most significant bit the coefficient of x^0. */
  #table = new Int32Array(256 * 4)
  #y = new Int32Array(4)
  /** The zero-padded last partial block of a message. */
  #tail = new Uint8Array(16)

  /** `hashKey`: H = E(K, 0^128), 16 bytes. */
  constructor(hashKey: Uint8Array) {
    const table = this.#table
    let v0 = word(hashKey, 0)
    let v1 = word(hashKey, 4)
    let v2 = word(hashKey, 8)
    let v3 = word(hashKey, 12)
    // 0x80 · H = H, 0x40 · H = H · x, ... 0x01 · H = H · x^7 (multiplying by x shifts right)
    for (let bit = 0x80; bit > 0; bit >>>= 1) {
      table[bit * 4] = v0
      table[bit * 4 + 1] = v1
      table[bit * 4 + 2] = v2
      table[bit * 4 + 3] = v3
      const carry = v3 & 1
      v3 = (v3 >>> 1) | (v2 << 31)
      v2 = (v2 >>> 1) | (v1 << 31)
      v1 = (v1 >>> 1) | (v0 << 31)
      v0 = (v0 >>> 1) ^ (carry ? 0xe1000000 : 0)
    }
    // The table is linear: b · H is the XOR of its bits' multiples
    for (let high = 2; high < 256; high <<= 1) {
      for (let low = 1; low < high; low++) {
        for (let i = 0; i < 4; i++)
          table[(high + low) * 4 + i] = table[high * 4 + i] ^ table[low * 4 + i]
      }
    }
  }

  reset() {
    this.#y.fill(0)
  }

  /** Absorbs `data[from..to)` as one GCM input (the AAD or the ciphertext), zero-padded to a block. */
  update(data: Uint8Array, from: number, to: number) {
    let at = from
    for (; to - at >= 16; at += 16) this.#absorb(data, at)
    if (at < to) {
      const tail = this.#tail
      let n = 0
      while (at < to) tail[n++] = data[at++]
      while (n < 16) tail[n++] = 0
      this.#absorb(tail, 0)
    }
  }

  /**
   * Absorbs the lengths block and writes GHASH XOR `mask[maskAt..maskAt+16)` (E(K, J0)), the GCM
   * tag, to `out` at `outAt`.
   */
  finish(
    aadBytes: number,
    dataBytes: number,
    mask: Uint8Array,
    maskAt: number,
    out: Uint8Array,
    outAt: number
  ) {
    const tail = this.#tail
    writeBitLength(tail, 0, aadBytes)
    writeBitLength(tail, 8, dataBytes)
    this.#absorb(tail, 0)
    const y = this.#y
    for (let i = 0; i < 16; i++) {
      out[outAt + i] = ((y[i >> 2] >>> (24 - (i & 3) * 8)) & 0xff) ^ mask[maskAt + i]
    }
  }

  /** Y = (Y XOR block) · H */
  #absorb(block: Uint8Array, at: number) {
    const y = this.#y
    const table = this.#table
    const x0 = y[0] ^ word(block, at)
    const x1 = y[1] ^ word(block, at + 4)
    const x2 = y[2] ^ word(block, at + 8)
    const x3 = y[3] ^ word(block, at + 12)
    // Horner over the bytes from the last: Z = Z · x^8 XOR table[byte], one word at a time
    let k = (x3 & 0xff) << 2
    let z0 = table[k]
    let z1 = table[k + 1]
    let z2 = table[k + 2]
    let z3 = table[k + 3]
    for (let w = 3; w >= 0; w--) {
      const x = w === 3 ? x3 : w === 2 ? x2 : w === 1 ? x1 : x0
      for (let shift = w === 3 ? 8 : 0; shift < 32; shift += 8) {
        const r = z3 & 0xff
        z3 = (z3 >>> 8) | (z2 << 24)
        z2 = (z2 >>> 8) | (z1 << 24)
        z1 = (z1 >>> 8) | (z0 << 24)
        z0 = (z0 >>> 8) ^ REDUCE[r]
        k = ((x >>> shift) & 0xff) << 2
        z0 ^= table[k]
        z1 ^= table[k + 1]
        z2 ^= table[k + 2]
        z3 ^= table[k + 3]
      }
    }
    y[0] = z0
    y[1] = z1
    y[2] = z2
    y[3] = z3
  }
}

function word(data: Uint8Array, at: number) {
  return (data[at] << 24) | (data[at + 1] << 16) | (data[at + 2] << 8) | data[at + 3]
}

/** A byte count as a 64-bit big-endian bit count. */
function writeBitLength(out: Uint8Array, at: number, bytes: number) {
  const bits = bytes * 8
  const high = Math.floor(bits / 0x1_0000_0000)
  out[at] = high >>> 24
  out[at + 1] = (high >>> 16) & 0xff
  out[at + 2] = (high >>> 8) & 0xff
  out[at + 3] = high & 0xff
  out[at + 4] = bits >>> 24
  out[at + 5] = (bits >>> 16) & 0xff
  out[at + 6] = (bits >>> 8) & 0xff
  out[at + 7] = bits & 0xff
}
