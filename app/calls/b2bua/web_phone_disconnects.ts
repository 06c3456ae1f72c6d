import type { SipClock, TimerHandle, ClosedConnection } from '#sip'

export interface WebPhoneDisconnectsOptions {
  /** SipTransportLayer.onConnectionClosed: subscribes, returns the unsubscribe function. */
  onConnectionClosed(listener: (connection: ClosedConnection) => void): () => void
  /** B2bua.endCallsOn: ends the calls running over that connection. */
  endCallsOn(connectionId: string, how: 'closed' | 'lost'): Promise<unknown>
  /** A dropped socket's calls stay up this long (WEBPHONE_RECONNECT_GRACE_SECONDS). */
  graceSeconds: number
  clock: SipClock
  onError(error: unknown): void
}

/**
 * Ends the calls of a web phone whose SIP WebSocket is gone, instead of leaving them to the media
 * timeout: closed with a close frame (the tab was closed) at once, dropped without one (network
 * loss, a crashed browser) after the grace period.
 */
export default class WebPhoneDisconnects {
  readonly #options: WebPhoneDisconnectsOptions
  readonly #pending = new Map<string, TimerHandle>()
  #unsubscribe: (() => void) | undefined

  constructor(options: WebPhoneDisconnectsOptions) {
    this.#options = options
  }

  /** Connections whose grace period is running. */
  get pending(): number {
    return this.#pending.size
  }

  start() {
    this.#unsubscribe ??= this.#options.onConnectionClosed((connection) => this.#closed(connection))
  }

  stop() {
    this.#unsubscribe?.()
    this.#unsubscribe = undefined
    for (const timer of this.#pending.values()) this.#options.clock.clearTimeout(timer)
    this.#pending.clear()
  }

  #closed({ protocol, connectionId, clean }: ClosedConnection) {
    if (protocol !== 'ws' && protocol !== 'wss') return
    if (clean) {
      this.#end(connectionId, 'closed')
      return
    }
    const timer = this.#options.clock.setTimeout(() => {
      this.#pending.delete(connectionId)
      this.#end(connectionId, 'lost')
    }, this.#options.graceSeconds * 1000)
    this.#pending.set(connectionId, timer)
  }

  #end(connectionId: string, how: 'closed' | 'lost') {
    this.#options.endCallsOn(connectionId, how).catch((error) => this.#options.onError(error))
  }
}
