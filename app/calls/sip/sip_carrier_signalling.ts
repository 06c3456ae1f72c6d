import SipUri from '#calls/sip/message/sip_uri'
import type { SipClock } from '#calls/sip/clock/sip_clock'
import type { SipDestination } from '#calls/sip/transaction/transaction_transport'
import type SipUserAgentCore from '#calls/sip/ua/sip_user_agent_core'
import RegistrationClient from '#calls/sip/ua/registration_client'
import { RegistrationState } from '#calls/sip/ua/registration_state'
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
  const params = new Map<string, string | null>(target.transport === 'udp' ? [] : [['transport', target.transport]])
  return new SipUri({ host: target.host, port: target.port, params })
}

function keyOf(target: SignallingTarget): string {
  return `${target.transport}|${target.host.toLowerCase()}|${target.port}`
}

/**
 * CarrierSignalling on the SIP stack: OPTIONS through the user agent core (timed out by the
 * health check's own limit, not Timer F), and one RegistrationClient per carrier target that
 * keeps the REGISTER fresh and retries with backoff. Plugins never see sockets; they get this.
 */
export default class SipCarrierSignalling implements CarrierSignalling {
  readonly #options: SipCarrierSignallingOptions
  readonly #registrations = new Map<string, RegistrationClient>()

  constructor(options: SipCarrierSignallingOptions) {
    this.#options = options
  }

  /** Registrations currently kept, for diagnostics and tests. */
  get registrationCount(): number {
    return this.#registrations.size
  }

  async sendOptions(target: SignallingTarget, options: { timeoutMs?: number } = {}): Promise<{ status: number }> {
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

  async register(
    target: SignallingTarget,
    auth: RegistrationAuth,
    onUpdate?: (update: RegistrationUpdate) => void
  ): Promise<{ status: number; expiresSeconds: number }> {
    await this.unregister(target)
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
    this.#registrations.set(keyOf(target), client)
    return new Promise((resolve) => {
      let first = true
      client.onChange((status) => {
        let update: RegistrationUpdate
        if (status.state === RegistrationState.Registered) {
          const left = Math.max(0, Math.round(((status.expiresAt ?? clock.now()) - clock.now()) / 1000))
          update = { state: 'registered', status: 200, expiresSeconds: left }
        } else if (status.state === RegistrationState.Failed) {
          update = { state: 'failed', status: status.lastError?.status ?? 0, expiresSeconds: 0 }
        } else {
          return
        }
        if (first) {
          first = false
          resolve({ status: update.status, expiresSeconds: update.expiresSeconds })
        }
        onUpdate?.(update)
      })
      client.start()
    })
  }

  async unregister(target: SignallingTarget): Promise<void> {
    await this.#stop(keyOf(target))
  }

  /** Ends every registration (shutdown). */
  async close(): Promise<void> {
    await Promise.all([...this.#registrations.keys()].map((key) => this.#stop(key)))
  }

  /** Removes the binding, waiting for the registrar at most `unregisterTimeoutMs`. */
  async #stop(key: string): Promise<void> {
    const client = this.#registrations.get(key)
    if (!client) {
      return
    }
    this.#registrations.delete(key)
    const { clock } = this.#options
    let timer: ReturnType<SipClock['setTimeout']> | undefined
    const gaveUp = new Promise<void>((resolve) => {
      timer = clock.setTimeout(resolve, this.#options.unregisterTimeoutMs ?? 3000)
    })
    await Promise.race([client.stop(), gaveUp])
    if (timer) clock.clearTimeout(timer)
  }

  async #firstDestination(target: SignallingTarget): Promise<SipDestination> {
    const [destination] = await this.#options.resolve(target)
    if (!destination) {
      throw new CarrierSignallingError('unresolved', `no address for the carrier host ${target.host}`)
    }
    return destination
  }
}
