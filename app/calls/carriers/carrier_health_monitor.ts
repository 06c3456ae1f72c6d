import type { SipClock, TimerHandle } from '#sip'
import type {
  CarrierHealth,
  CarrierSignalling,
  RegistrationUpdate,
  SignallingTarget,
  TrunkProfile,
} from '#calls/carriers/types'

export interface CarrierHealthMonitorOptions {
  profile: TrunkProfile
  signalling: CarrierSignalling
  clock: SipClock
  /** Wall-clock time for `checkedAt` (the SIP clock is monotonic). */
  now?: () => Date
  /** Told after every change of the health snapshot. */
  onChange?: (health: CarrierHealth) => void
}

/**
 * Watches one carrier. OPTIONS goes to every trunk host each `intervalSeconds`; a round counts
 * as alive when any host answers with anything but 503: a 404, 405 or 481 comes from a SIP
 * server that is up and only dislikes the request, while 503 (or silence, or a transport
 * error) is what RFC 3263 failover treats as "try the next one". After `failuresBeforeDown` dead
 * rounds in a row the carrier is `down`; one live round makes it `up` again. For digest
 * trunks it keeps a registration (refresh and backoff are the signalling's job).
 */
export default class CarrierHealthMonitor {
  readonly #options: CarrierHealthMonitorOptions
  readonly #now: () => Date
  #health: CarrierHealth
  #timer: TimerHandle | undefined
  #registrationRetry: TimerHandle | undefined
  #running = false
  #registrationTarget: SignallingTarget | undefined

  constructor(options: CarrierHealthMonitorOptions) {
    this.#options = options
    this.#now = options.now ?? (() => new Date())
    const registers = options.profile.auth.method === 'registration'
    this.#health = {
      options: 'unknown',
      registration: registers ? 'unknown' : 'not_applicable',
      checkedAt: null,
      consecutiveFailures: 0,
      lastStatus: null,
      registrationStatus: null,
      registeredUntil: null,
    }
  }

  get running(): boolean {
    return this.#running
  }

  health(): CarrierHealth {
    return { ...this.#health }
  }

  /** First OPTIONS round and the REGISTER go out at once. */
  start(): void {
    if (this.#running) {
      return
    }
    this.#running = true
    if (this.#options.profile.healthCheck.enabled) {
      void this.#round()
    }
    this.#register()
  }

  /** Stops the checks and removes the registration. */
  async stop(): Promise<void> {
    this.#running = false
    for (const timer of [this.#timer, this.#registrationRetry]) {
      if (timer) this.#options.clock.clearTimeout(timer)
    }
    this.#timer = undefined
    this.#registrationRetry = undefined
    const target = this.#registrationTarget
    this.#registrationTarget = undefined
    if (target) {
      await this.#options.signalling.unregister(target)
    }
  }

  async #round(): Promise<void> {
    const { profile, signalling } = this.#options
    const { timeoutMs } = profile.healthCheck
    const answers = await Promise.all(
      profile.hosts.map((host) =>
        signalling
          .sendOptions({ host, port: profile.port, transport: profile.transport }, { timeoutMs })
          .then((answer) => answer.status)
          .catch(() => null)
      )
    )
    if (!this.#running) {
      return
    }
    const alive = answers.find((status) => status !== null && status !== 503)
    const failures = alive === undefined ? (this.#health.consecutiveFailures ?? 0) + 1 : 0
    let state = this.#health.options
    if (alive !== undefined) {
      state = 'up'
    } else if (failures >= profile.healthCheck.failuresBeforeDown) {
      state = 'down'
    }
    this.#update({
      options: state,
      checkedAt: this.#now(),
      consecutiveFailures: failures,
      lastStatus: alive ?? answers.find((status) => status !== null) ?? null,
    })
    this.#timer = this.#options.clock.setTimeout(
      () => void this.#round(),
      profile.healthCheck.intervalSeconds * 1000
    )
  }

  #register(): void {
    const { profile, signalling } = this.#options
    const auth = profile.auth
    if (auth.method !== 'registration') {
      return
    }
    const target = { host: profile.hosts[0], port: profile.port, transport: profile.transport }
    this.#registrationTarget = target
    // No unregister of our own once the first outcome is in: stop() has queued one already, and
    // the signalling applies them in call order. A late one could end a newer monitor's registration.
    signalling
      .register(target, auth, (update) => this.#registered(update))
      .catch(() => {
        // No address for the registrar (DNS): try again after a check interval.
        if (!this.#running) return
        this.#update({ registration: 'failed', registrationStatus: null, registeredUntil: null })
        this.#registrationRetry = this.#options.clock.setTimeout(() => {
          this.#registrationRetry = undefined
          if (this.#running) this.#register()
        }, profile.healthCheck.intervalSeconds * 1000)
      })
  }

  #registered(update: RegistrationUpdate): void {
    if (!this.#running) {
      return
    }
    const registered = update.state === 'registered'
    this.#update({
      registration: registered ? 'registered' : 'failed',
      registrationStatus: update.status,
      registeredUntil: registered
        ? new Date(this.#now().getTime() + update.expiresSeconds * 1000)
        : null,
    })
  }

  #update(change: Partial<CarrierHealth>): void {
    this.#health = { ...this.#health, ...change }
    this.#options.onChange?.(this.health())
  }
}
