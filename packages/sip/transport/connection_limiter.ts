export interface ConnectionLimits {
  /** Open stream connections (TCP, TLS, WebSocket together) from one IP address. */
  maxPerSource: number
  /** Open stream connections in total. */
  maxTotal: number
}

export type ConnectionRefusal = 'source-limit' | 'total-limit'

/**
 * Counts open stream connections per source address and in total, shared by every stream
 * transport, so that one peer cannot exhaust file descriptors or memory.
 */
export default class ConnectionLimiter {
  readonly limits: Readonly<ConnectionLimits>
  #perSource = new Map<string, number>()
  #total = 0

  constructor(limits: ConnectionLimits) {
    this.limits = Object.freeze({ ...limits })
  }

  /** Reserves a slot for a connection from `address`, or says why it is refused. */
  acquire(address: string): { ok: true } | { ok: false; reason: ConnectionRefusal } {
    if (this.#total >= this.limits.maxTotal) {
      return { ok: false, reason: 'total-limit' }
    }
    const current = this.#perSource.get(address) ?? 0
    if (current >= this.limits.maxPerSource) {
      return { ok: false, reason: 'source-limit' }
    }
    this.#perSource.set(address, current + 1)
    this.#total += 1
    return { ok: true }
  }

  /** Frees the slot of a closed connection; call once per successful acquire. */
  release(address: string): void {
    const current = this.#perSource.get(address)
    if (current === undefined) {
      return
    }
    if (current <= 1) {
      this.#perSource.delete(address)
    } else {
      this.#perSource.set(address, current - 1)
    }
    this.#total -= 1
  }

  get total(): number {
    return this.#total
  }

  countFor(address: string): number {
    return this.#perSource.get(address) ?? 0
  }
}
