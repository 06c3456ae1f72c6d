import {
  createHmac,
  createSecretKey,
  randomBytes,
  timingSafeEqual,
  type KeyObject,
} from 'node:crypto'

export type NonceState = 'fresh' | 'stale' | 'foreign'

/** Clock skew between nodes that share the secret; a nonce "from the future" beyond it is not ours. */
const MAX_SKEW_MS = 5_000

/**
 * Stateless nonces: `<issued-at ms, base36>.<random>.<HMAC>`. Any node holding the secret can tell
 * its own nonces and their age without shared state; the random part makes each one unique so
 * that nonce counts (kept elsewhere) are per challenge.
 */
export default class DigestNonceIssuer {
  /**
   * The secret as a key object, made once: an HMAC keyed with a Buffer prepares the key at every
   * nonce issued or checked (several times the HMAC's own cost).
   */
  readonly #key: KeyObject

  constructor(
    secret: Buffer,
    private readonly lifetimeMs: number,
    private readonly now: () => number = Date.now,
    private readonly random: () => string = () => randomBytes(9).toString('base64url')
  ) {
    this.#key = createSecretKey(secret)
  }

  issue(): string {
    const body = `${this.now().toString(36)}.${this.random()}`
    return `${body}.${this.#mac(body)}`
  }

  check(nonce: string): NonceState {
    const parts = nonce.split('.')
    if (parts.length !== 3) {
      return 'foreign'
    }
    const body = `${parts[0]}.${parts[1]}`
    const given = Buffer.from(parts[2])
    const wanted = Buffer.from(this.#mac(body))
    if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) {
      return 'foreign'
    }
    const issuedAt = Number.parseInt(parts[0], 36)
    const age = this.now() - issuedAt
    if (!Number.isFinite(issuedAt) || age < -MAX_SKEW_MS) {
      return 'foreign'
    }
    return age <= this.lifetimeMs ? 'fresh' : 'stale'
  }

  /** How long nonce counts must be remembered: a nonce is accepted until it turns stale. */
  get lifetimeSeconds(): number {
    return Math.ceil((this.lifetimeMs + MAX_SKEW_MS) / 1000)
  }

  #mac(body: string): string {
    return createHmac('sha256', this.#key).update(body).digest('base64url').slice(0, 22)
  }
}
