import limiter from '@adonisjs/limiter/services/main'
import { keyPart } from '#core/rate_limit'

export type LockScope = 'password' | '2fa'
export interface Lock {
  by: 'account' | 'ip'
  retryAfterSeconds: number
}

/**
 * Failed login steps, counted per account (from any IP) and per IP (for any account) apart, in
 * the limiter's store (memory, or Redis when configured). A device the account logged in from
 * before is exempt from the account's lock, so an attacker cannot lock the owner out; nobody is
 * exempt from an IP's lock.
 */
export default class LoginThrottle {
  constructor(
    private scope: LockScope,
    private maxPerAccount: number,
    private maxPerIp: number,
    private window = '15 mins',
    private blockFor = '15 mins'
  ) {}

  #limiters(account: string, ip: string) {
    return [
      {
        by: 'ip' as const,
        key: `login:${this.scope}:ip:${ip}`,
        limiter: limiter.use({
          requests: this.maxPerIp,
          duration: this.window,
          blockDuration: this.blockFor,
        }),
      },
      {
        by: 'account' as const,
        key: `login:${this.scope}:account:${keyPart(account)}`,
        limiter: limiter.use({
          requests: this.maxPerAccount,
          duration: this.window,
          blockDuration: this.blockFor,
        }),
      },
    ]
  }

  /** The lock that refuses this attempt, if any. */
  async lockFor(account: string, ip: string, knownDevice: boolean): Promise<Lock | null> {
    for (const { by, key, limiter: counter } of this.#limiters(account, ip)) {
      if (by === 'account' && knownDevice) continue
      const state = await counter.get(key)
      if (state && state.remaining <= 0) return { by, retryAfterSeconds: state.availableIn }
    }
    return null
  }

  /** Counts a failure against the account and the IP; returns the locks this failure started. */
  async failed(account: string, ip: string): Promise<Lock[]> {
    const started: Lock[] = []
    for (const { by, key, limiter: counter } of this.#limiters(account, ip)) {
      const state = await counter.increment(key)
      if (state.consumed === state.limit) {
        const blocked = await counter.block(key, this.blockFor)
        started.push({ by, retryAfterSeconds: blocked.availableIn })
      }
    }
    return started
  }

  /** A success clears the account's count (never the IP's: one good account must not reset a spray). */
  async succeeded(account: string, ip: string) {
    const [, accountCounter] = this.#limiters(account, ip)
    await accountCounter.limiter.delete(accountCounter.key)
  }
}
