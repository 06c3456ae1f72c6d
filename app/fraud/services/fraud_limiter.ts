import type { CounterStore } from '#core/counters/types'
import type { FraudLimits } from '#config/fraud'
import type { FraudRefusal } from '#fraud/services/fraud_rules'
import type RedisCallLeases from '#fraud/services/redis_call_leases'
import LocalDays from '#fraud/services/local_days'

/** Who a limit applies to: "company:4", "user:17", "device:3". */
export interface LimitSubject {
  key: string
  limits: FraudLimits
}

/** A counter that must be below a limit for the call to pass, and the refusal when it is not. */
export interface CounterCheck {
  key: string
  below: number
  refusal: FraudRefusal
}

const RATE_LIMIT: FraudRefusal = { reason: 'rate_limit', phrase: 'Call limit reached' }
const NUMBER_RATE_LIMIT: FraudRefusal = {
  reason: 'number_rate_limit',
  phrase: 'Call limit reached for this number',
}
const CONCURRENT_LIMIT: FraudRefusal = {
  reason: 'concurrent_limit',
  phrase: 'Too many concurrent calls',
}

const MINUTE = 60_000
const HOUR = 3_600_000

/**
 * The counting limits, on the shared counters of app/core (memory, or Redis across nodes): calls
 * per minute, hour and day (the day in the company's time zone), calls to one number per hour and
 * concurrent calls as leases. A lease is released at call:ended; its counter also expires after
 * `leaseSeconds` and is rebuilt from the lease table, so a lost release never blocks for good.
 * With `leaseSets` (Redis) the leases are the calls' ids in a set per subject instead of
 * counters, taken in the same single step (RedisCallLeases).
 */
export default class FraudLimiter {
  #days = new LocalDays()

  constructor(
    private counters: CounterStore,
    private options: { leaseSeconds: number; now?: () => number; leaseSets?: RedisCallLeases }
  ) {}

  #now() {
    return (this.options.now ?? Date.now)()
  }

  /** The calendar day in a time zone: daily counters reset at its midnight (DST-safe). */
  day(timeZone: string, at: number) {
    return this.#days.of(timeZone, at)
  }

  #rateKeys(subject: string, at: number, timeZone: string) {
    return {
      minute: { key: `fraud:m:${subject}:${Math.floor(at / MINUTE)}`, window: 120 },
      hour: { key: `fraud:h:${subject}:${Math.floor(at / HOUR)}`, window: 7200 },
      day: { key: `fraud:d:${subject}:${this.day(timeZone, at)}`, window: 2 * 86_400 },
    }
  }

  static leaseKey(subject: string) {
    return `fraud:c:${subject}`
  }

  /**
   * Checks the rates (and the caller's own checks first, e.g. spend caps), then takes a
   * concurrent-call lease on every subject and counts the rates: all in one atomic step on the
   * counters (one Redis round trip), so a refusal takes nothing and two nodes admitting at once
   * cannot both take the last place. Allowed: the lease keys (release them when the call ends)
   * and the values the caller's checks read. `callUuid`: the call the leases are for (the lease
   * sets hold it; the counters need it not).
   */
  async admit(
    subjects: LimitSubject[],
    number: { companyId: number; destination: string; perHour: number },
    timeZone: string,
    before: CounterCheck[] = [],
    callUuid?: string
  ): Promise<{ refusal: FraudRefusal } | { leaseKeys: string[]; values: number[] }> {
    const at = this.#now()
    const rates = subjects.flatMap((subject) => {
      const keys = this.#rateKeys(subject.key, at, timeZone)
      return [
        { ...keys.minute, limit: subject.limits.perMinute },
        { ...keys.hour, limit: subject.limits.perHour },
        { ...keys.day, limit: subject.limits.perDay },
      ]
    })
    const toNumber = {
      key: `fraud:n:company:${number.companyId}:${number.destination}:${Math.floor(at / HOUR)}`,
      window: 7200,
      limit: number.perHour,
    }
    const leaseKeys = subjects.map((subject) => FraudLimiter.leaseKey(subject.key))
    const checks = [
      ...before.map((check) => ({ key: check.key, below: check.below, refusal: check.refusal })),
      ...rates.map((rate) => ({ key: rate.key, below: rate.limit, refusal: RATE_LIMIT })),
      { key: toNumber.key, below: toNumber.limit, refusal: NUMBER_RATE_LIMIT },
    ]
    const counts = [...rates, toNumber].map((rate) => ({
      key: rate.key,
      windowSeconds: rate.window,
    }))
    const sets = this.options.leaseSets
    const taken =
      sets && callUuid !== undefined
        ? await sets.take(callUuid, {
            checks,
            leases: subjects.map((subject) => ({
              subject: subject.key,
              limit: subject.limits.concurrent,
            })),
            counts,
          })
        : await this.counters.take({
            checks,
            leases: subjects.map((subject, index) => ({
              key: leaseKeys[index],
              limit: subject.limits.concurrent,
              windowSeconds: this.options.leaseSeconds,
            })),
            counts,
          })
    if (!taken.taken) {
      return 'check' in taken.refused
        ? { refusal: checks[taken.refused.check].refusal }
        : { refusal: CONCURRENT_LIMIT }
    }
    return { leaseKeys, values: taken.values.slice(0, before.length) }
  }

  async release(leaseKeys: string[]) {
    await Promise.all(
      leaseKeys.map((key) => this.counters.increment(key, this.options.leaseSeconds, -1))
    )
  }

  /** The lease counter of a subject: its running calls. */
  async held(subject: string) {
    return this.counters.get(FraudLimiter.leaseKey(subject))
  }

  /** Sets a lease counter to the number of running calls (rebuild from the lease table). */
  async setLeases(subject: string, running: number) {
    const key = FraudLimiter.leaseKey(subject)
    await this.counters.reset(key)
    if (running > 0) await this.counters.increment(key, this.options.leaseSeconds, running)
  }
}
