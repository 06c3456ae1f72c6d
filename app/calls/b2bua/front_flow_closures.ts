import { parseClientSource, type SipClock } from '#sip'
import GracePeriodEnds from '#calls/b2bua/grace_period_ends'
import type { ChangesBus } from '#core/caching/change_version'

/** The channel (after the deployment's Redis prefix) a SIP front publishes closed client flows on. */
export const FLOW_CLOSED_CHANNEL = 'front:flow-closed'

export interface FrontFlowClosuresOptions {
  bus: Pick<ChangesBus, 'subscribe' | 'unsubscribe'>
  /** The deployment's Redis prefix (REDIS_PREFIX), as the front writes it before the channel. */
  prefix: string
  /** SipStack.removeFlow: the bindings registered over that flow go (every node may do it). */
  removeBindings(flow: string): Promise<unknown>
  /** B2bua.endCallsOn: the calls of this node running over that flow. */
  endCallsOn(flow: string, how: 'lost'): Promise<unknown>
  /** The front cannot tell a closed tab from a dropped socket: calls get the reconnect grace. */
  graceSeconds: number
  clock: SipClock
  onError(error: unknown): void
}

/**
 * A browser's WebSocket that closed at the SIP front (Kamailio's websocket:closed event, published
 * on Redis as `<proto>:<ip>:<port>`) is treated as a web phone's socket closing on this node: its
 * bindings go at once, so inbound calls stop ringing it, and its calls end after the grace period.
 */
export default class FrontFlowClosures {
  readonly #options: FrontFlowClosuresOptions
  readonly #grace: GracePeriodEnds
  #channel: string | undefined

  constructor(options: FrontFlowClosuresOptions) {
    this.#options = options
    this.#grace = new GracePeriodEnds(options.clock, options.graceSeconds, (flow) =>
      options.endCallsOn(flow, 'lost').catch((error) => options.onError(error))
    )
  }

  get channel(): string {
    return `${this.#options.prefix}${FLOW_CLOSED_CHANNEL}`
  }

  /** Connections whose grace period is running. */
  get pending(): number {
    return this.#grace.pending
  }

  start() {
    if (this.#channel) return
    this.#channel = this.channel
    this.#options.bus.subscribe(this.#channel, (message) => this.closed(message))
  }

  async stop() {
    this.#grace.clear()
    const channel = this.#channel
    this.#channel = undefined
    if (channel) await this.#options.bus.unsubscribe(channel)
  }

  /** One published flow; anything that is no `<proto>:<ip>:<port>` is ignored. */
  closed(message: string) {
    const flow = parseClientSource(message)?.flow
    if (!flow) return
    this.#options.removeBindings(flow).catch((error) => this.#options.onError(error))
    this.#grace.start(flow)
  }
}
