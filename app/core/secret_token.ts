import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

/** A single-use secret for a link in an email: the link carries the token, the database its hash. */
export function newSecretToken() {
  const token = randomBytes(32).toString('base64url')
  return { token, hash: hashSecretToken(token) }
}

export function hashSecretToken(token: string) {
  return createHash('sha256').update(token).digest('hex')
}

export function safeEqual(a: string, b: string) {
  const left = Buffer.from(a)
  const right = Buffer.from(b)
  return left.length === right.length && timingSafeEqual(left, right)
}
