import type { SipClock, ClosedConnection } from '#sip'
import GracePeriodEnds from '#calls/b2bua/grace_period_ends'

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
  readonly #grace: GracePeriodEnds
  #unsubscribe: (() => void) | undefined

  constructor(options: WebPhoneDisconnectsOptions) {
    this.#options = options
    this.#grace = new GracePeriodEnds(options.clock, options.graceSeconds, (connectionId) =>
      this.#end(connectionId, 'lost')
    )
  }

  /** Connections whose grace period is running. */
  get pending(): number {
    return this.#grace.pending
  }

  start() {
    this.#unsubscribe ??= this.#options.onConnectionClosed((connection) => this.#closed(connection))
  }

  stop() {
    this.#unsubscribe?.()
    this.#unsubscribe = undefined
    this.#grace.clear()
  }

  #closed({ protocol, connectionId, clean }: ClosedConnection) {
    if (protocol !== 'ws' && protocol !== 'wss') return
    if (clean) {
      this.#end(connectionId, 'closed')
      return
    }
    this.#grace.start(connectionId)
  }

  #end(connectionId: string, how: 'closed' | 'lost') {
    this.#options.endCallsOn(connectionId, how).catch((error) => this.#options.onError(error))
  }
}
