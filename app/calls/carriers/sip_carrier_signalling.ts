import {
  SipUri,
  type SipClock,
  type SipDestination,
  type SipUserAgentCore,
  RegistrationClient,
  RegistrationState,
} from '#sip'
import type {
  CarrierSignalling,
  RegistrationAuth,
  RegistrationUpdate,
  SignallingTarget,
} from '#calls/carriers/types'

/** Why a request to a carrier got no answer: the `code` CarrierSignalling documents. */
export class CarrierSignallingError extends Error {
  constructor(
    readonly code: 'timeout' | 'transport' | 'unresolved',
    message: string
  ) {
    super(message)
    this.name = 'CarrierSignallingError'
  }
}

export interface SipCarrierSignallingOptions {
  core: SipUserAgentCore
  clock: SipClock
  /** RFC 3263 next hops for a target, in the order to try (SipStack.resolveTargets). */
  resolve: (target: SignallingTarget) => Promise<SipDestination[]>
  /** OPTIONS without a timeout of its own waits this long (Timer F would be 32 s). */
  defaultTimeoutMs?: number
  /** First retry delay after a failed REGISTER, doubling up to the maximum (RegistrationClient). */
  registrationRetryBaseMs?: number
  registrationRetryMaxMs?: number
  /** How long `unregister` waits for the registrar before it gives up (shutdown must not hang). */
  unregisterTimeoutMs?: number
}

/** The Request-URI for a carrier: its host and port, with ;transport for TCP and TLS. */
export function carrierUri(target: { host: string; port: number; transport: string }): SipUri {
  const params = new Map<string, string | null>(
    target.transport === 'udp' ? [] : [['transport', target.transport]]
  )
  return new SipUri({ host: target.host, port: target.port, params })
}

function keyOf(target: SignallingTarget): string {
  return `${target.transport}|${target.host.toLowerCase()}|${target.port}`
}

/** What `register` resolves with when the registration ended before its first outcome. */
const ENDED_EARLY = { status: 0, expiresSeconds: 0 }

/**
 * CarrierSignalling on the SIP stack: OPTIONS through the user agent core (timed out by the
 * health check's own limit, not Timer F), and one RegistrationClient per carrier target that
 * keeps the REGISTER fresh and retries with backoff. Plugins never see sockets; they get this.
 *
 * `register` and `unregister` for one target take effect one after another, in call order: an
 * unregister made while a register is still resolving the carrier's address ends that
 * registration, and a register waits until the binding before it is removed. Every client
 * registers the same AOR and Contact, so two alive at once, or an Expires: 0 landing after the
 * next REGISTER, would take the carrier's one binding from the registration that is meant to stay.
 */
export default class SipCarrierSignalling implements CarrierSignalling {
  readonly #options: SipCarrierSignallingOptions
  readonly #registrations = new Map<string, RegistrationClient>()
  /** Per target: the tail of its register/unregister steps. */
  readonly #turns = new Map<string, Promise<void>>()
  #closed = false

  constructor(options: SipCarrierSignallingOptions) {
    this.#options = options
  }

  /** Registrations currently kept, for diagnostics and tests. */
  get registrationCount(): number {
    return this.#registrations.size
  }

  async sendOptions(
    target: SignallingTarget,
    options: { timeoutMs?: number } = {}
  ): Promise<{ status: number }> {
    const destination = await this.#firstDestination(target)
    const { core, clock } = this.#options
    const timeoutMs = options.timeoutMs ?? this.#options.defaultTimeoutMs ?? 2000
    return new Promise((resolve, reject) => {
      const outgoing = core.request({
        method: 'OPTIONS',
        uri: carrierUri(target),
        destination,
        headers: [['Accept', 'application/sdp']],
      })
      const timer = clock.setTimeout(() => {
        // Our own limit, below Timer F: the transaction ends here without further retransmissions.
        outgoing.transaction?.terminate()
        reject(new CarrierSignallingError('timeout', `no answer to OPTIONS within ${timeoutMs} ms`))
      }, timeoutMs)
      void outgoing.response.then((response) => {
        clock.clearTimeout(timer)
        if (outgoing.failure === 'timeout') {
          reject(new CarrierSignallingError('timeout', 'no answer to OPTIONS'))
        } else if (outgoing.failure === 'transport') {
          reject(new CarrierSignallingError('transport', 'OPTIONS could not be sent'))
        } else {
          resolve({ status: response.status })
        }
      })
    })
  }

  /**
   * Replaces any registration of the target. Resolves with the first outcome, or with status 0
   * when an unregister (or close) ended it before that.
   */
  async register(
    target: SignallingTarget,
    auth: RegistrationAuth,
    onUpdate?: (update: RegistrationUpdate) => void
  ): Promise<{ status: number; expiresSeconds: number }> {
    const key = keyOf(target)
    // The first outcome is awaited outside the turn: a later unregister must not wait for it.
    const started = await this.#inTurn(key, async () => {
      await this.#stop(key)
      if (this.#closed) {
        return undefined
      }
      const registrarHost = auth.registrar ?? target.host
      const destination = await this.#firstDestination({ ...target, host: registrarHost })
      const { core, clock } = this.#options
      const client = new RegistrationClient({
        core,
        clock,
        registrar: carrierUri({ ...target, host: registrarHost }),
        aor: new SipUri({ user: auth.username, host: auth.realm ?? registrarHost }),
        credentials: { username: auth.username, password: auth.password },
        expires: auth.expiresSeconds,
        retryBaseMs: this.#options.registrationRetryBaseMs,
        retryMaxMs: this.#options.registrationRetryMaxMs,
        destination,
      })
      this.#registrations.set(key, client)
      const firstOutcome = this.#firstOutcome(client, onUpdate)
      client.start()
      return { firstOutcome }
    })
    return started ? started.firstOutcome : { ...ENDED_EARLY }
  }

  unregister(target: SignallingTarget): Promise<void> {
    const key = keyOf(target)
    return this.#inTurn(key, () => this.#stop(key))
  }

  /** Ends every registration (shutdown); registers still waiting for their turn start none. */
  async close(): Promise<void> {
    this.#closed = true
    const keys = new Set([...this.#registrations.keys(), ...this.#turns.keys()])
    await Promise.all([...keys].map((key) => this.#inTurn(key, () => this.#stop(key))))
  }

  /** Runs `step` after every step queued before it for the same target. */
  #inTurn<T>(key: string, step: () => Promise<T>): Promise<T> {
    const result = (this.#turns.get(key) ?? Promise.resolve()).then(step)
    const tail = result.then(
      () => {},
      () => {}
    )
    this.#turns.set(key, tail)
    void tail.then(() => {
      if (this.#turns.get(key) === tail) this.#turns.delete(key)
    })
    return result
  }

  /** The client's first Registered or Failed, then every later one to `onUpdate`. */
  #firstOutcome(
    client: RegistrationClient,
    onUpdate?: (update: RegistrationUpdate) => void
  ): Promise<{ status: number; expiresSeconds: number }> {
    const { clock } = this.#options
    return new Promise((resolve) => {
      let first = true
      client.onChange((status) => {
        let update: RegistrationUpdate
        if (status.state === RegistrationState.Registered) {
          const left = Math.max(
            0,
            Math.round(((status.expiresAt ?? clock.now()) - clock.now()) / 1000)
          )
          update = { state: 'registered', status: 200, expiresSeconds: left }
        } else if (status.state === RegistrationState.Failed) {
          update = { state: 'failed', status: status.lastError?.status ?? 0, expiresSeconds: 0 }
        } else {
          if (first && status.state !== RegistrationState.Registering) {
            // Stopped before the carrier answered: nothing to report but the end.
            first = false
            resolve({ ...ENDED_EARLY })
          }
          return
        }
        if (first) {
          first = false
          resolve({ status: update.status, expiresSeconds: update.expiresSeconds })
        }
        onUpdate?.(update)
      })
    })
  }

  /**
   * Removes the binding, waiting for the registrar at most `unregisterTimeoutMs`; after that
   * the client is abandoned, so no Expires: 0 of its own can follow the next REGISTER.
   */
  async #stop(key: string): Promise<void> {
    const client = this.#registrations.get(key)
    if (!client) {
      return
    }
    this.#registrations.delete(key)
    const { clock } = this.#options
    let timer: ReturnType<SipClock['setTimeout']> | undefined
    const gaveUp = new Promise<'gave-up'>((resolve) => {
      timer = clock.setTimeout(() => resolve('gave-up'), this.#options.unregisterTimeoutMs ?? 3000)
    })
    const outcome = await Promise.race([client.stop(), gaveUp])
    if (timer) clock.clearTimeout(timer)
    if (outcome === 'gave-up') {
      client.abandon()
    }
  }

  async #firstDestination(target: SignallingTarget): Promise<SipDestination> {
    const [destination] = await this.#options.resolve(target)
    if (!destination) {
      throw new CarrierSignallingError(
        'unresolved',
        `no address for the carrier host ${target.host}`
      )
    }
    return destination
  }
}
