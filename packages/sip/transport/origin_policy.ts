/**
 * Which web origins may open a SIP WebSocket. Browsers always send Origin on a WebSocket
 * handshake, so a missing or foreign one means another site's page (or no browser) is trying.
 */
export default class OriginPolicy {
  readonly #allowed: ReadonlySet<string>

  /** `allowed` holds origins or URLs; only their origin (scheme, host, port) counts. */
  constructor(allowed: readonly string[]) {
    const origins = new Set<string>()
    for (const entry of allowed) {
      const origin = OriginPolicy.normalize(entry)
      if (!origin) {
        throw new Error(`SIP WebSocket: "${entry}" is not a valid origin`)
      }
      origins.add(origin)
    }
    this.#allowed = origins
  }

  allows(origin: string | undefined): boolean {
    if (!origin) {
      return false
    }
    const normalized = OriginPolicy.normalize(origin)
    return normalized !== undefined && this.#allowed.has(normalized)
  }

  get origins(): string[] {
    return [...this.#allowed]
  }

  /** scheme://host[:port] in lower case with default ports dropped; undefined when not a URL. */
  static normalize(value: string): string | undefined {
    try {
      const url = new URL(value.trim())
      if (url.origin === 'null') {
        return undefined
      }
      return url.origin.toLowerCase()
    } catch {
      return undefined
    }
  }
}
