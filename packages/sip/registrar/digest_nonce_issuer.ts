import { timingSafeEqual } from 'node:crypto'
import HmacSha256 from '#sip/auth/hmac_sha256'
import { randomBase64url } from '#sip/message/random_token'

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
   * The secret's HMAC, keyed once: node:crypto's HMAC prepares its key at every nonce issued or
   * checked (several times the HMAC's own cost), with a Buffer as with a key object.
   */
  readonly #hmac: HmacSha256

  constructor(
    secret: Buffer,
    private readonly lifetimeMs: number,
    private readonly now: () => number = Date.now,
    private readonly random: () => string = () => randomBase64url(9)
  ) {
    this.#hmac = new HmacSha256(secret)
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
    return this.#hmac.digest(body).toString('base64url').slice(0, 22)
  }
}
