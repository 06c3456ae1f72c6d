import type { SipClock, TimerHandle } from '#sip/clock/sip_clock'
import type { TimerConfig } from '#sip/transaction/timer_config'

export enum SuccessRetransmissionState {
  Retransmitting = 'retransmitting',
  Acknowledged = 'acknowledged',
  TimedOut = 'timed-out',
  Stopped = 'stopped',
}

/**
 * The UAS core's retransmission of a 2xx to INVITE until its ACK arrives (RFC 3261 13.3.1.4):
 * T1, doubling up to T2, for 64*T1 in all. It runs on every transport because the ACK travels
 * end to end and a reliable first hop does not make it arrive.
 */
export default class SuccessResponseRetransmitter {
  readonly #clock: SipClock
  readonly #timers: Readonly<TimerConfig>
  readonly #retransmit: () => void
  readonly #timeout: () => void
  #state = SuccessRetransmissionState.Retransmitting
  #interval: number
  #resend: TimerHandle | undefined
  #giveUp: TimerHandle | undefined

  constructor(
    clock: SipClock,
    timers: Readonly<TimerConfig>,
    retransmit: () => void,
    timeout: () => void
  ) {
    this.#clock = clock
    this.#timers = timers
    this.#retransmit = retransmit
    this.#timeout = timeout
    this.#interval = timers.t1
    this.#resend = clock.setTimeout(() => this.#onResend(), this.#interval)
    this.#giveUp = clock.setTimeout(() => this.#onGiveUp(), 64 * timers.t1)
  }

  get state(): SuccessRetransmissionState {
    return this.#state
  }

  acknowledge(): void {
    if (this.#state === SuccessRetransmissionState.Retransmitting) {
      this.#clear()
      this.#state = SuccessRetransmissionState.Acknowledged
    }
  }

  stop(): void {
    if (this.#state === SuccessRetransmissionState.Retransmitting) {
      this.#clear()
      this.#state = SuccessRetransmissionState.Stopped
    }
  }

  #onResend(): void {
    this.#interval = Math.min(2 * this.#interval, this.#timers.t2)
    this.#resend = this.#clock.setTimeout(() => this.#onResend(), this.#interval)
    this.#retransmit()
  }

  #onGiveUp(): void {
    this.#giveUp = undefined
    this.#clear()
    this.#state = SuccessRetransmissionState.TimedOut
    this.#timeout()
  }

  #clear(): void {
    for (const handle of [this.#resend, this.#giveUp]) {
      if (handle) {
        this.#clock.clearTimeout(handle)
      }
    }
    this.#resend = undefined
    this.#giveUp = undefined
  }
}
