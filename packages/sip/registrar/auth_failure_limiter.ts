import { hash } from 'node:crypto'
import type { FailureCounters } from '#sip/registrar/failure_counters'
import type { LockoutSettings } from '#sip/registrar/registrar_settings'

export type LockScope = 'source' | 'username'

/** The counters as an authentication found them before deciding. */
export interface AuthAttempt {
  locked: LockScope[]
  /** The username's failures in its window (cleared by a success). */
  usernameFailures: number
}

/**
 * Counts failed digest authentications per source address and per username in the shared
 * CounterStore, and locks either for a while once it fails too often. A lock is a counter of its
 * own whose window is the lock time, so it ends by itself in memory and in Redis alike.
 */
export default class AuthFailureLimiter {
  constructor(
    private readonly counters: FailureCounters,
    private readonly settings: LockoutSettings
  ) {}

  /** Whether the source or the username is locked now. */
  async isLocked(ip: string, username: string): Promise<boolean> {
    return (await this.locks(ip, username)).length > 0
  }

  /** Which of the two is locked now. */
  async locks(ip: string, username: string): Promise<LockScope[]> {
    return (await this.attempt(ip, username)).locked
  }

  /**
   * What an authentication needs to know before it decides, in one read of the counters (one
   * round trip in Redis, issue 17): the locks, and whether the username has failures that a
   * success clears (most have none, and then the success writes nothing).
   */
  async attempt(ip: string, username: string): Promise<AuthAttempt> {
    const user = this.#subjectKey('username', username)
    const [sourceLock, userLock, userFailures] = await this.counters.getMany([
      this.#lockKey('source', ip),
      this.#lockKey('username', user, true),
      this.#failureKey('username', user, true),
    ])
    const locked: LockScope[] = []
    if (sourceLock > 0) locked.push('source')
    if (userLock > 0) locked.push('username')
    return { locked, usernameFailures: userFailures }
  }

  /** Whether one source address (or username) is locked now. */
  isScopeLocked(scope: LockScope, subject: string): Promise<boolean> {
    return this.#locked(scope, subject)
  }

  /** Ends a lock before its time, with the failures that led to it (staff or a company admin decided so). */
  async lift(scope: LockScope, subject: string): Promise<void> {
    await Promise.all([
      this.counters.reset(this.#lockKey(scope, subject)),
      this.counters.reset(this.#failureKey(scope, subject)),
    ])
  }

  /** Counts one failure for both; returns the scopes this failure has just locked (not those locked before). */
  async recordFailure(ip: string, username: string): Promise<LockScope[]> {
    const { sourceWindowSeconds, usernameWindowSeconds } = this.settings
    const [sourceFailures, usernameFailures] = await Promise.all([
      this.counters.increment(this.#failureKey('source', ip), sourceWindowSeconds),
      this.counters.increment(this.#failureKey('username', username), usernameWindowSeconds),
    ])
    const locked: LockScope[] = []
    if (sourceFailures >= this.settings.sourceMaxFailures && !(await this.#locked('source', ip))) {
      locked.push('source')
    }
    if (
      usernameFailures >= this.settings.usernameMaxFailures &&
      !(await this.#locked('username', username))
    ) {
      locked.push('username')
    }
    await Promise.all(
      locked.map((scope) =>
        this.counters.increment(
          this.#lockKey(scope, scope === 'source' ? ip : username),
          this.settings.lockSeconds
        )
      )
    )
    return locked
  }

  /**
   * A success clears the username's failures (not the source's: one good device must not hide a
   * scan). Given the attempt's read, a username that had none is left alone (no write); failures
   * counted after that read stay, as they came after the proof.
   */
  async recordSuccess(username: string, attempt?: AuthAttempt): Promise<void> {
    if (attempt && attempt.usernameFailures === 0) return
    await this.counters.reset(this.#failureKey('username', username))
  }

  async #locked(scope: LockScope, subject: string): Promise<boolean> {
    return (await this.counters.get(this.#lockKey(scope, subject))) > 0
  }

  /** `keyed`: the subject is already what #subjectKey made of it (hashed once per attempt). */
  #failureKey(scope: LockScope, subject: string, keyed = false) {
    return `sip-auth:failures:${scope}:${keyed ? subject : this.#subjectKey(scope, subject)}`
  }

  #lockKey(scope: LockScope, subject: string, keyed = false) {
    return `sip-auth:lock:${scope}:${keyed ? subject : this.#subjectKey(scope, subject)}`
  }

  /** Usernames come from the network: hashed, so odd bytes or huge values never reach a key. */
  #subjectKey(scope: LockScope, subject: string) {
    return scope === 'username' ? hash('sha256', subject, 'base64url').slice(0, 27) : subject
  }
}
