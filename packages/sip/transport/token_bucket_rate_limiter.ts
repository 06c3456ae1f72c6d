import type { SipClock } from '#sip/clock/sip_clock'

export interface RateLimitOptions {
  /** Messages a source may send at once after being quiet. */
  burst: number
  /** Sustained messages per second per source. */
  perSecond: number
  /** Sources tracked at most, so that spoofed UDP sources cannot grow memory without end. */
  maxSources: number
}

interface Bucket {
  tokens: number
  updatedAt: number
}

/**
 * One token bucket per source (an IP address), so that a flooding source runs dry while every
 * other source keeps its own budget.
 */
export default class TokenBucketRateLimiter {
  readonly options: Readonly<RateLimitOptions>
  readonly #clock: SipClock
  #buckets = new Map<string, Bucket>()

  constructor(clock: SipClock, options: RateLimitOptions) {
    if (options.burst < 1 || options.perSecond <= 0 || options.maxSources < 1) {
      throw new Error('rate limit: burst and maxSources must be >= 1, perSecond > 0')
    }
    this.#clock = clock
    this.options = Object.freeze({ ...options })
  }

  /** Takes a token for `source`; false when its bucket is empty: drop the message. */
  allow(source: string): boolean {
    const now = this.#clock.now()
    let bucket = this.#buckets.get(source)
    if (bucket) {
      bucket.tokens = this.#refilled(bucket, now)
      bucket.updatedAt = now
    } else {
      this.#makeRoom(now)
      bucket = { tokens: this.options.burst, updatedAt: now }
      this.#buckets.set(source, bucket)
    }
    if (bucket.tokens < 1) {
      return false
    }
    bucket.tokens -= 1
    return true
  }

  get trackedSources(): number {
    return this.#buckets.size
  }

  #refilled(bucket: Bucket, now: number): number {
    const elapsedSeconds = Math.max(0, now - bucket.updatedAt) / 1000
    return Math.min(this.options.burst, bucket.tokens + elapsedSeconds * this.options.perSecond)
  }

  /** Forgets full buckets (they act like new ones), then the oldest, to stay within maxSources. */
  #makeRoom(now: number): void {
    if (this.#buckets.size < this.options.maxSources) {
      return
    }
    for (const [source, bucket] of this.#buckets) {
      if (this.#refilled(bucket, now) >= this.options.burst) {
        this.#buckets.delete(source)
      }
    }
    for (const source of this.#buckets.keys()) {
      if (this.#buckets.size < this.options.maxSources) {
        break
      }
      this.#buckets.delete(source)
    }
  }
}
