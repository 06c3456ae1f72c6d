import type Company from '#accounts/models/company'
import type FraudPolicies from '#fraud/services/fraud_policies'
import type SpendCounters from '#fraud/services/spend_counters'
import type { RunningCall } from '#fraud/services/spend_counters'
import { hasSpendCap } from '#fraud/services/fraud_rules'
import type { SpendLimits } from '#config/fraud'

/** Where running calls are ended: the B2BUA of this node (absent where no calls run). */
export interface RunningCalls {
  endCallWithin(uuid: string, ms: number, cause: 'spend_cap'): boolean
}

/** The timers the watch runs on: the B2BUA's clock (FakeClock in tests). */
export interface WatchClock {
  setTimeout(callback: () => void, delayMs: number): { readonly id: number }
  clearTimeout(handle: { readonly id: number }): void
}

type Caps = Pick<SpendLimits, 'dailyCapMicro' | 'monthlyCapMicro'>

/**
 * Spend caps over the calls that are running: a call's budget is fixed at admission, so calls of
 * one company (or one user) running together would overrun a cap together. The watch re-evaluates
 * them every `intervalSeconds` and when a rated call's cost arrives (billing:call_rated): the time
 * left is the budget left (cap − spent − accrued) at the price of all the calls running against
 * the cap together; calls whose time left falls within the next two checks are given their end
 * (CDR cause spend_cap), at once when a cap is reached. Only this node's calls are seen (the
 * accrual of running calls is per node); a call is only ever shortened, never lengthened.
 */
export default class SpendWatch {
  #timer: { readonly id: number } | undefined
  #clock: WatchClock | undefined
  /** Bumped by stop(): a check of an earlier start() schedules no next one. */
  #generation = 0
  /** The check the timer started last (tests on a FakeClock wait for it). */
  lastCheck: Promise<unknown> = Promise.resolve()

  constructor(
    private spend: SpendCounters,
    private policies: FraudPolicies,
    private companyOf: (companyId: number) => Promise<Company | null>,
    private calls: () => RunningCalls | undefined,
    private intervalSeconds: number,
    private now: () => number = Date.now,
    private report: (error: unknown) => void = () => {}
  ) {}

  /** Checks every `intervalSeconds` on `clock` until stop() (or the next start()). */
  start(clock: WatchClock) {
    this.stop()
    const generation = this.#generation
    const next = () => {
      this.#timer = clock.setTimeout(() => {
        this.#timer = undefined
        this.lastCheck = this.checkAll()
          .catch((error) => this.report(error))
          .finally(() => {
            if (this.#generation === generation) next()
          })
      }, this.intervalSeconds * 1000)
    }
    this.#clock = clock
    next()
    return () => this.stop()
  }

  /** No more checks: the pending timer is cleared, a check under way schedules no next one. */
  stop() {
    this.#generation++
    if (this.#timer) this.#clock?.clearTimeout(this.#timer)
    this.#timer = undefined
  }

  /** Every company with priced calls running here. Resolves with the calls given an end. */
  async checkAll(): Promise<Map<string, number>> {
    const ended = new Map<string, number>()
    for (const companyId of this.spend.companiesRunning()) {
      for (const [uuid, ms] of await this.check(companyId)) ended.set(uuid, ms)
    }
    return ended
  }

  /** One company's running calls; resolves with the calls given an end and in how many ms. */
  async check(companyId: number): Promise<Map<string, number>> {
    const running = this.spend.runningOf(companyId)
    const ends = new Map<string, number>()
    if (!running.length) return ends
    const company = await this.companyOf(companyId)
    if (!company) return ends
    const policy = await this.policies.company(company)
    const now = this.now()
    const shorten = (calls: Array<[string, RunningCall]>, seconds: number | null) => {
      if (seconds === null) return
      for (const [uuid] of calls) ends.set(uuid, Math.min(ends.get(uuid) ?? Infinity, seconds))
    }
    if (hasSpendCap(policy.spend)) {
      const spent = await this.spend.spent(`company:${companyId}`, policy.timeZone, now)
      shorten(
        running,
        this.#secondsLeft(policy.spend, spent, this.spend.accrued(companyId, now), running)
      )
    }
    const byUser = new Map<number, Array<[string, RunningCall]>>()
    for (const entry of running) {
      const calls = byUser.get(entry[1].userId) ?? []
      calls.push(entry)
      byUser.set(entry[1].userId, calls)
    }
    for (const [userId, calls] of byUser) {
      const user = await this.policies.user(userId)
      if (!hasSpendCap(user.spend)) continue
      const spent = await this.spend.spent(`user:${userId}`, policy.timeZone, now)
      shorten(
        calls,
        this.#secondsLeft(user.spend, spent, this.spend.accrued(companyId, now, userId), calls)
      )
    }
    const horizon = 2 * this.intervalSeconds
    const given = new Map<string, number>()
    const b2bua = this.calls()
    for (const [uuid, seconds] of ends) {
      if (seconds > horizon) continue
      const ms = Math.max(0, Math.floor(seconds * 1000))
      if (b2bua?.endCallWithin(uuid, ms, 'spend_cap')) given.set(uuid, ms)
    }
    return given
  }

  /** Seconds until `calls` together use up what `caps` leave (0: reached); null without caps. */
  #secondsLeft(
    caps: Caps,
    spent: { day: number; month: number },
    accrued: number,
    calls: Array<[string, RunningCall]>
  ): number | null {
    const left = Math.min(
      caps.dailyCapMicro === null ? Infinity : caps.dailyCapMicro - spent.day - accrued,
      caps.monthlyCapMicro === null ? Infinity : caps.monthlyCapMicro - spent.month - accrued
    )
    if (left === Infinity) return null
    if (left <= 0) return 0
    const rate = calls.reduce((sum, [, call]) => sum + call.pricePerMinuteMicro, 0)
    return rate > 0 ? (left * 60) / rate : null
  }
}
