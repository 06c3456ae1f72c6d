import type SipRequest from '#sip/message/sip_request'
import type SipResponse from '#sip/message/sip_response'
import NameAddress from '#sip/message/name_address'
import type SipUri from '#sip/message/sip_uri'
import { randomToken } from '#sip/message/random_token'
import type { SipClock, TimerHandle } from '#sip/clock/sip_clock'
import type { DigestCredentials } from '#sip/auth/digest'
import type { SipDestination } from '#sip/transaction/transaction_transport'
import type SipUserAgentCore from '#sip/ua/sip_user_agent_core'
import { RegistrationState } from '#sip/ua/registration_state'

export interface RegistrationError {
  status: number
  reason: string
  /** Clock time (ms) of the failure. */
  at: number
}

/** A snapshot for the health display; times are in the injected clock's milliseconds. */
export interface RegistrationStatus {
  state: RegistrationState
  lastError: RegistrationError | undefined
  nextAttemptAt: number | undefined
  expiresAt: number | undefined
  consecutiveFailures: number
}

export interface RegistrationClientOptions {
  core: SipUserAgentCore
  clock: SipClock
  /** The registrar's URI: the Request-URI of REGISTER. */
  registrar: SipUri
  /** The address of record, for To and From. */
  aor: SipUri
  credentials?: DigestCredentials
  /** Requested binding lifetime in seconds. */
  expires?: number
  /** Share of the granted lifetime after which we refresh. */
  refreshRatio?: number
  /** First retry delay after a failure; doubles per consecutive failure. */
  retryBaseMs?: number
  retryMaxMs?: number
  /** An outbound proxy, or the carrier's resolved address. */
  destination?: SipDestination
  contact?: NameAddress
  callId?: string
}

/**
 * Keeps one binding registered at a carrier (RFC 3261 10.2): REGISTER with digest, refreshed at
 * a share of the granted lifetime with the same Call-ID and rising CSeq (10.2.4), retried with
 * exponential backoff after failures, removed with Expires: 0 on stop. A refresh reuses the last
 * challenge preemptively, so the nonce count rises instead of costing a 401 every time.
 */
export default class RegistrationClient {
  readonly #options: RegistrationClientOptions
  readonly #clock: SipClock
  readonly #callId: string
  readonly #listeners = new Set<(status: RegistrationStatus) => void>()
  #state = RegistrationState.Unregistered
  #expires: number
  #cseq = 0
  #lastError: RegistrationError | undefined
  #nextAttemptAt: number | undefined
  #expiresAt: number | undefined
  #failures = 0
  #timer: TimerHandle | undefined
  #lastChallenge: SipResponse | undefined
  #running = false
  #intervalRetried = false
  #abandoned = false
  /** True while a REGISTER (digest retry included) waits for its final answer. */
  #inFlight = false
  /** Run once that answer is in (the Expires: 0 of a stop), synchronously. */
  #afterInFlight: Array<() => void> = []

  constructor(options: RegistrationClientOptions) {
    this.#options = options
    this.#clock = options.clock
    this.#callId = options.callId ?? `${randomToken()}${randomToken()}`
    this.#expires = options.expires ?? 3600
  }

  get state(): RegistrationState {
    return this.#state
  }

  snapshot(): RegistrationStatus {
    return {
      state: this.#state,
      lastError: this.#lastError,
      nextAttemptAt: this.#nextAttemptAt,
      expiresAt: this.#expiresAt,
      consecutiveFailures: this.#failures,
    }
  }

  /** Listens to state changes; returns the function that stops listening. */
  onChange(listener: (status: RegistrationStatus) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  start(): void {
    if (this.#running) {
      return
    }
    this.#running = true
    this.#register()
  }

  /**
   * Stops refreshing and removes the binding; resolves once the registrar answered. A REGISTER
   * still under way is answered first, so our Expires: 0 cannot arrive before it.
   */
  stop(): Promise<void> {
    this.#running = false
    this.#clearTimer()
    this.#nextAttemptAt = undefined
    const bound =
      this.#state === RegistrationState.Registered || this.#state === RegistrationState.Registering
    if (!bound) {
      this.#setState(RegistrationState.Unregistered)
      return Promise.resolve()
    }
    this.#setState(RegistrationState.Unregistering)
    return this.#unregister()
  }

  /**
   * Gives up a stop that takes too long (the registrar is silent): nothing more is sent, so no
   * late Expires: 0 can remove a binding someone registered after us.
   */
  abandon(): void {
    this.#abandoned = true
    this.#running = false
    this.#clearTimer()
  }

  #unregister(): Promise<void> {
    return new Promise((resolve) => {
      const send = () => {
        if (this.#abandoned) {
          resolve()
          return
        }
        this.#send(0, () => {
          this.#expiresAt = undefined
          this.#setState(RegistrationState.Unregistered)
          resolve()
        })
      }
      if (this.#inFlight) {
        this.#afterInFlight.push(send)
      } else {
        send()
      }
    })
  }

  #register(): void {
    this.#timer = undefined
    this.#nextAttemptAt = undefined
    if (this.#state !== RegistrationState.Registered) {
      this.#setState(RegistrationState.Registering)
    }
    this.#send(this.#expires, (response) => this.#answered(response))
  }

  #send(expires: number, onFinal: (response: SipResponse) => void): void {
    const { core, registrar, aor, credentials, destination } = this.#options
    const contact = this.#options.contact ?? core.contact(destination?.protocol)
    this.#inFlight = true
    core.request({
      method: 'REGISTER',
      uri: registrar,
      to: new NameAddress(aor),
      from: new NameAddress(aor),
      callId: this.#callId,
      cseq: ++this.#cseq,
      destination,
      contact,
      headers: [['Expires', String(expires)]],
      credentials,
      nextCSeq: () => ++this.#cseq,
      prepare: (request) => this.#authorizePreemptively(request),
      onChallenge: (response) => {
        this.#lastChallenge = response
      },
      onFinal: (response) => {
        this.#inFlight = false
        onFinal(response)
        for (const next of this.#afterInFlight.splice(0)) next()
      },
    })
  }

  #authorizePreemptively(request: SipRequest): void {
    if (!this.#lastChallenge) {
      return
    }
    const header = this.#options.core.authenticator.authorize(
      this.#lastChallenge,
      request,
      this.#options.credentials
    )
    if (header) {
      request.headers.set(header.name, header.value)
    }
  }

  #answered(response: SipResponse): void {
    if (!this.#running) {
      return
    }
    if (response.isSuccess) {
      this.#intervalRetried = false
      const granted = this.#grantedSeconds(response)
      this.#failures = 0
      this.#expiresAt = this.#clock.now() + granted * 1000
      const ratio = this.#options.refreshRatio ?? 0.5
      this.#schedule(Math.max(1000, granted * 1000 * ratio))
      this.#setState(RegistrationState.Registered)
      return
    }
    const minExpires = Number(response.headers.get('min-expires'))
    if (response.status === 423 && minExpires > 0 && !this.#intervalRetried) {
      // RFC 3261 10.3: the registrar wants a longer lifetime; ask again at once with it.
      this.#intervalRetried = true
      this.#expires = minExpires
      this.#register()
      return
    }
    this.#failed(response)
  }

  #failed(response: SipResponse): void {
    this.#failures += 1
    this.#lastChallenge = undefined
    this.#lastError = { status: response.status, reason: response.reason, at: this.#clock.now() }
    const base = this.#options.retryBaseMs ?? 10_000
    const max = this.#options.retryMaxMs ?? 600_000
    const delay = Math.min(max, base * 2 ** (this.#failures - 1))
    this.#schedule(delay)
    this.#setState(RegistrationState.Failed)
  }

  /** The lifetime the registrar granted our Contact (10.2.4), else Expires, else what we asked. */
  #grantedSeconds(response: SipResponse): number {
    const { contact, core, destination } = this.#options
    const ours = (contact ?? core.contact(destination?.protocol)).uri.toString()
    const binding = response.contacts.find((granted) => granted.uri.toString() === ours)
    const fromContact = Number(binding?.param('expires'))
    if (Number.isFinite(fromContact) && fromContact > 0) {
      return fromContact
    }
    return response.expires && response.expires > 0 ? response.expires : this.#expires
  }

  #schedule(delayMs: number): void {
    this.#clearTimer()
    this.#nextAttemptAt = this.#clock.now() + delayMs
    this.#timer = this.#clock.setTimeout(() => this.#register(), delayMs)
  }

  #clearTimer(): void {
    if (this.#timer) {
      this.#clock.clearTimeout(this.#timer)
      this.#timer = undefined
    }
  }

  #setState(state: RegistrationState): void {
    this.#state = state
    const status = this.snapshot()
    for (const listener of this.#listeners) {
      listener(status)
    }
  }
}
