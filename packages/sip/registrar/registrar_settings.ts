import type { DigestAlgorithm } from '#sip/auth/digest'

/** Limits of the digest server's brute-force protection. */
export interface LockoutSettings {
  /** Failures from one source address within `sourceWindowSeconds` that lock the source. */
  sourceMaxFailures: number
  sourceWindowSeconds: number
  /** Failures for one username within `usernameWindowSeconds` that lock the username. */
  usernameMaxFailures: number
  usernameWindowSeconds: number
  lockSeconds: number
}

export interface RegistrarSettings {
  /** The digest realm; HA1 values depend on it, so changing it invalidates every device password. */
  realm: string
  /** How long a nonce is fresh; an older one with right credentials gets stale=true. */
  nonceLifetimeSeconds: number
  minExpires: number
  maxExpires: number
  /** The expiry of a Contact that names none, and of a request without Expires (RFC 3261 10.2.1.1). */
  defaultExpires: number
  /** Bindings one address-of-record may hold; more are refused so one device cannot fill the store. */
  maxBindingsPerAor: number
  /**
   * The WWW-Authenticate challenges of a 401, one per algorithm, in this order. MD5 only by
   * default: clients that know only MD5 and do not pick among several challenges fail on a
   * SHA-256 one, and both kinds are common: sipp 3.6 (and many desk phones) answer the first
   * challenge, sip.js 0.21 (the web phone's library) keeps only the last. RFC 8760 clients take
   * the first algorithm they know, so a site whose phones all do SHA-256 can set
   * [SHA-256, MD5] in config/sip.ts (registrar.digestAlgorithms).
   */
  digestAlgorithms: DigestAlgorithm[]
  lockout: LockoutSettings
}

export const DEFAULT_LOCKOUT: LockoutSettings = {
  sourceMaxFailures: 10,
  sourceWindowSeconds: 5 * 60,
  usernameMaxFailures: 5,
  usernameWindowSeconds: 15 * 60,
  lockSeconds: 15 * 60,
}
