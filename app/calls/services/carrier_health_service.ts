import CarrierHealthMonitor from '#calls/carriers/carrier_health_monitor'
import type { CarrierHealth, CarrierPlugin, CarrierSignalling } from '#calls/carriers/types'
import type { SipClock, TimerHandle, SipLogger } from '#sip'
import type CarrierDirectory from '#calls/services/carrier_directory'

export interface CarrierHealthServiceOptions {
  directory: CarrierDirectory
  /** The SIP stack's CarrierSignalling, created when first needed (the stack starts late). */
  signalling: () => Promise<CarrierSignalling>
  clock: SipClock
  logger: SipLogger
  /** How often `sync()` runs on its own after `start()`; 0: never. */
  syncIntervalMs: number
}

interface Watched {
  plugin: CarrierPlugin
  monitor: CarrierHealthMonitor
}

/**
 * Carrier health of this process, in memory: a CarrierHealthMonitor (OPTIONS, registration) for
 * every carrier that carries traffic (enabled, lifecycle `active`). `sync()` follows the
 * operators' changes; a carrier switched off, withdrawn or given new credentials (a new plugin
 * instance) gets its monitor stopped (and unregistered) or replaced. The admin pages and the
 * B2BUA read `health()`/`isDown()`; each plugin reads the same through `attach()`.
 */
export default class CarrierHealthService {
  readonly #options: CarrierHealthServiceOptions
  readonly #watched = new Map<string, Watched>()
  #syncing: Promise<void> = Promise.resolve()
  #timer: TimerHandle | undefined
  #started = false

  constructor(options: CarrierHealthServiceOptions) {
    this.#options = options
  }

  /** Names of the carriers being watched. */
  get watched(): string[] {
    return [...this.#watched.keys()]
  }

  /** Watches now and re-reads the carriers' state every `syncIntervalMs`. */
  async start(): Promise<void> {
    if (this.#started) return
    this.#started = true
    await this.sync()
  }

  /** Brings the monitors in line with the carriers' current state; safe to call any time. */
  sync(): Promise<void> {
    this.#syncing = this.#syncing.then(() => this.#sync())
    return this.#syncing
  }

  /** Null when the carrier is not watched (not active, unknown, or checks not started). */
  health(name: string): CarrierHealth | null {
    return this.#watched.get(name)?.monitor.health() ?? null
  }

  /** Every watched carrier's health, for the admin list. */
  all(): Record<string, CarrierHealth> {
    return Object.fromEntries(
      [...this.#watched].map(([name, watched]) => [name, watched.monitor.health()])
    )
  }

  /** Seconds between a watched carrier's OPTIONS rounds; null when not watched. */
  checkIntervalSeconds(name: string): number | null {
    return this.#watched.get(name)?.plugin.profile.healthCheck.intervalSeconds ?? null
  }

  /** Failed its OPTIONS checks `failuresBeforeDown` times in a row. */
  isDown(name: string): boolean {
    return this.health(name)?.options === 'down'
  }

  /**
   * The B2BUA's view of a route's carriers: the order kept, the `down` ones left out, unless
   * every one is down (then all are tried: a check can be wrong, a call attempt costs little).
   */
  preferAvailable<T extends string | { name: string }>(carriers: T[]): T[] {
    const nameOf = (carrier: T) => (typeof carrier === 'string' ? carrier : carrier.name)
    const available = carriers.filter((carrier) => !this.isDown(nameOf(carrier)))
    return available.length > 0 ? available : carriers
  }

  /** Stops every monitor and removes the registrations (shutdown). */
  async stop(): Promise<void> {
    this.#started = false
    if (this.#timer) {
      this.#options.clock.clearTimeout(this.#timer)
      this.#timer = undefined
    }
    await this.#syncing.catch(() => {})
    const watched = [...this.#watched.values()]
    this.#watched.clear()
    await Promise.allSettled(watched.map((entry) => entry.monitor.stop()))
  }

  async #sync(): Promise<void> {
    try {
      const views = await this.#options.directory.all()
      const wanted = new Map(
        views.filter((view) => view.active).map((view) => [view.entry.name, view.plugin])
      )
      for (const [name, watched] of [...this.#watched]) {
        if (wanted.get(name) !== watched.plugin) {
          this.#watched.delete(name)
          await watched.monitor.stop()
        }
      }
      for (const [name, plugin] of wanted) {
        if (!this.#watched.has(name)) {
          await this.#watch(name, plugin)
        }
      }
    } catch (error) {
      // A failed read (database away) keeps the monitors as they are until the next sync.
      this.#options.logger.error({ err: error }, 'carrier health sync failed')
    } finally {
      this.#schedule()
    }
  }

  async #watch(name: string, plugin: CarrierPlugin): Promise<void> {
    const signalling = await this.#options.signalling()
    const monitor = new CarrierHealthMonitor({
      profile: plugin.profile,
      signalling,
      clock: this.#options.clock,
      onChange: (health) => this.#logChange(name, health),
    })
    this.#watched.set(name, { plugin, monitor })
    // The plugin reads its health from the monitor that watches it.
    await plugin.attach?.({
      sendOptions: (target, options) => signalling.sendOptions(target, options),
      register: (target, auth, onUpdate) => signalling.register(target, auth, onUpdate),
      unregister: (target) => signalling.unregister(target),
      health: () => monitor.health(),
    })
    monitor.start()
  }

  #schedule(): void {
    if (!this.#started || this.#options.syncIntervalMs <= 0 || this.#timer) return
    this.#timer = this.#options.clock.setTimeout(() => {
      this.#timer = undefined
      void this.sync()
    }, this.#options.syncIntervalMs)
  }

  #lastLogged = new Map<string, string>()

  /** One line per state change (never per check): carrier name and states, nothing personal. */
  #logChange(name: string, health: CarrierHealth): void {
    const summary = `${health.options}/${health.registration}`
    if (this.#lastLogged.get(name) === summary) return
    this.#lastLogged.set(name, summary)
    this.#options.logger.info(
      {
        carrier: name,
        options: health.options,
        registration: health.registration,
        status: health.lastStatus,
      },
      'carrier health changed'
    )
  }
}
