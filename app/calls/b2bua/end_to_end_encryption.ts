/**
 * End-to-end encryption between two browsers (issue 22): the B2BUA tells each browser its role in
 * the key exchange (a header) and relays the exchange (in-dialog INFO) between them. It sees only
 * public keys and a hash commitment, never a key; bodies are never logged.
 */

/** The role header on INVITE, 200 OK and re-INVITE towards a browser whose peer is a browser. */
export const E2EE_HEADER = 'X-FluffyCall-E2EE'

/** The content type of the key exchange's INFO requests. */
export const E2EE_CONTENT_TYPE = 'application/vnd.fluffycall.e2ee+json'

/** A key exchange body is at most this long (a public key is 87 characters in base64url). */
export const E2EE_MAX_BODY_BYTES = 1024

export type E2eeRole = 'initiator' | 'responder' | 'none'

export type KeyMessageType = 'commit' | 'dhpart' | 'reveal' | 'confirm' | 'abort'

/** One step of the key exchange, as a browser sends it. */
export interface KeyMessage {
  epoch: number
  type: KeyMessageType
  hash?: string
  pk?: string
}

const TYPES = new Set<string>(['commit', 'dhpart', 'reveal', 'confirm', 'abort'])
const FIELDS = new Set(['epoch', 'type', 'hash', 'pk'])
const BASE64URL = /^[A-Za-z0-9_-]{1,700}$/

/** `X-FluffyCall-E2EE: <role>;epoch=<n>`, as a header pair for the SIP layer. */
export function roleHeader(role: E2eeRole, epoch: number): [string, string] {
  return [E2EE_HEADER, `${role};epoch=${epoch}`]
}

/** The status a malformed body is refused with, or the message. */
export type ParsedKeyMessage = { message: KeyMessage } | { status: 400 | 413; reason: string }

/**
 * Reads a key exchange body (untrusted): JSON of exactly the contract's shape, at most 1 KiB,
 * base64url strings for hash and pk. Anything else is refused, never passed on.
 */
export function parseKeyMessage(body: Buffer): ParsedKeyMessage {
  if (body.length > E2EE_MAX_BODY_BYTES) return { status: 413, reason: 'Body Too Large' }
  let value: unknown
  try {
    value = JSON.parse(body.toString('utf8'))
  } catch {
    return { status: 400, reason: 'Not JSON' }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { status: 400, reason: 'Not a key exchange message' }
  const fields = value as Record<string, unknown>
  if (Object.keys(fields).some((key) => !FIELDS.has(key)))
    return { status: 400, reason: 'Unknown field' }
  const { epoch, type, hash, pk } = fields
  if (typeof epoch !== 'number' || !Number.isSafeInteger(epoch) || epoch < 1)
    return { status: 400, reason: 'Bad epoch' }
  if (typeof type !== 'string' || !TYPES.has(type)) return { status: 400, reason: 'Bad type' }
  for (const field of [hash, pk]) {
    if (field !== undefined && (typeof field !== 'string' || !BASE64URL.test(field)))
      return { status: 400, reason: 'Bad key field' }
  }
  if (type === 'commit' && hash === undefined) return { status: 400, reason: 'Commit needs hash' }
  if ((type === 'dhpart' || type === 'reveal') && pk === undefined)
    return { status: 400, reason: 'Key part needs pk' }
  const message: KeyMessage = { epoch, type: type as KeyMessageType }
  if (hash !== undefined) message.hash = hash as string
  if (pk !== undefined) message.pk = pk as string
  return { message }
}

/** Which side of the call sent a relayed message (for the test hook). */
export interface RelayedKeyMessage {
  message: KeyMessage
  /** The role of the browser that sent it in the current epoch. */
  from: 'initiator' | 'responder'
  body: Buffer
}

/**
 * The test hook: rewrites a relayed body in transit (a browser test substitutes a public key to
 * prove the two authentication strings then differ). Off unless a test sets it; refused outside
 * the test environment.
 */
export const keyExchangeTamper: {
  rewrite: ((relayed: RelayedKeyMessage) => Buffer | undefined) | undefined
} = { rewrite: undefined }

/** Sets (or with undefined clears) the test hook; throws outside NODE_ENV=test. */
export function tamperWithKeyExchange(rewrite: typeof keyExchangeTamper.rewrite) {
  if (rewrite && process.env.NODE_ENV !== 'test')
    throw new Error('the key exchange test hook exists in the test environment only')
  keyExchangeTamper.rewrite = rewrite
}
