import { randomFillSync } from 'node:crypto'

/** A source of unguessable tokens for tags, branches and cnonces; tests inject their own. */
export type TokenSource = () => string

const TOKEN_BYTES = 10
/**
 * Random bytes drawn from the CSPRNG in batches: one call per 256 tokens instead of per token
 * (a `randomBytes` call costs tens of microseconds here, issue 17).
 */
const pool = Buffer.alloc(TOKEN_BYTES * 256)
let offset = pool.length

/** `bytes` (at most the pool's size) random bytes as URL-safe base64, each byte used once. */
export function randomBase64url(bytes: number): string {
  if (offset + bytes > pool.length) {
    randomFillSync(pool)
    offset = 0
  }
  const token = pool.toString('base64url', offset, offset + bytes)
  // Each byte serves once: wiped, so a token never reappears from a stale pool.
  pool.fill(0, offset, offset + bytes)
  offset += bytes
  return token
}

/** 80 random bits, URL-safe: more than RFC 3261 19.3 asks of tags (32 bits) and branches. */
export const randomToken: TokenSource = () => randomBase64url(TOKEN_BYTES)
