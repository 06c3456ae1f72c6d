import { randomBytes } from 'node:crypto'
import {
  DigestAlgorithm,
  createChallenge,
  parseAlgorithm,
  verifyCredentials,
} from '#sip/auth/digest'
import type AuthHeader from '#sip/message/auth_header'
import type SipRequest from '#sip/message/sip_request'
import SipUri from '#sip/message/sip_uri'
import SipParseError from '#sip/message/sip_parse_error'
import type { SipDestination } from '#sip/transaction/transaction_transport'
import { clientOf } from '#sip/transport/trusted_fronts'
import type { SipCredential, SipCredentialStore } from '#sip/registrar/sip_credential'
import type DigestNonceIssuer from '#sip/registrar/digest_nonce_issuer'
import type { NonceCountStore } from '#sip/registrar/nonce_count_store'
import type AuthFailureLimiter from '#sip/registrar/auth_failure_limiter'
import type { LockScope } from '#sip/registrar/auth_failure_limiter'

/** The algorithms we challenge with, strongest first (RFC 8760 2.4: the client picks the first it knows). */
export const OFFERED_ALGORITHMS = [DigestAlgorithm.Sha256, DigestAlgorithm.Md5] as const

/** Why an authentication failed; for the audit log only, never for the answer. */
export type AuthFailureReason =
  | 'locked'
  | 'unknown_username'
  | 'wrong_credentials'
  | 'uri_mismatch'
  | 'foreign_nonce'
  | 'transport_not_allowed'

export type DigestOutcome =
  | { kind: 'authenticated'; credential: SipCredential }
  /** Answer 401 with these WWW-Authenticate values, one header line each. */
  | { kind: 'challenge'; challenges: AuthHeader[] }

/**
 * One refused authentication, as the stack reports it to its owner (the calls module writes the
 * audit entries). `username` is what the network sent, already cut to a loggable length.
 */
export interface AuthFailure {
  source: SipDestination
  username: string
  /** The credentials the username named, if any (whose they are is the owner's business). */
  credential: SipCredential | undefined
  reason: AuthFailureReason
  /** The scopes this very failure locked (empty when nothing was locked now). */
  lockedNow: LockScope[]
}

/** Called once per refused authentication, before the challenge goes out. */
export type AuthFailureHook = (failure: AuthFailure) => Promise<unknown>

/** How one authentication may decide. */
export interface AuthenticateOptions {
  /**
   * When the shared stores (the failure counters and the nonce counts, Redis when configured)
   * cannot be reached, decide on the digest alone instead of failing: no lock is known, a nonce
   * count is not checked for replay, nothing is counted. For requests that must not depend on
   * them, such as emergency calls; everything else fails with the store's error.
   */
  storesOptional?: boolean
  /** Told once per authentication that went on without a store, with the store's error. */
  onStoreUnavailable?: (error: unknown) => void
}

export interface DigestAuthenticatorOptions {
  realm: string
  credentials: SipCredentialStore
  nonces: DigestNonceIssuer
  nonceCounts: NonceCountStore
  limiter: AuthFailureLimiter
  /** Told about every refusal (the calls module writes the audit entries). */
  onFailure: AuthFailureHook
  /** The challenges of a 401, in this order; OFFERED_ALGORITHMS when not given. */
  algorithms?: readonly DigestAlgorithm[]
}

/** Audit details keep at most this much of a username that came from the network. */
const MAX_LOGGED_USERNAME = 64

/**
 * The digest server of the registrar. Every refusal, whether the password is wrong, the username
 * unknown, the transport not the login's or the source or username locked, goes through the same steps (one credential lookup,
 * one lock check, one HA1 comparison, one failure count, one audit write) and ends in the same
 * challenge, so neither the answer nor its timing tells a guesser which case it hit.
 */
export default class DigestAuthenticator {
  readonly #options: DigestAuthenticatorOptions
  /** Random HA1s compared against when there is no real one, to keep the timing path the same. */
  readonly #dummyHa1: Record<DigestAlgorithm, string>
  readonly #algorithms: readonly DigestAlgorithm[]

  constructor(options: DigestAuthenticatorOptions) {
    this.#options = options
    this.#algorithms = options.algorithms?.length ? options.algorithms : OFFERED_ALGORITHMS
    this.#dummyHa1 = Object.fromEntries(
      Object.values(DigestAlgorithm).map((algorithm) => [
        algorithm,
        randomBytes(algorithm.startsWith('MD5') ? 16 : 32).toString('hex'),
      ])
    ) as Record<DigestAlgorithm, string>
  }

  get realm(): string {
    return this.#options.realm
  }

  /** The challenges of a 401; `stale` tells a client with right credentials to retry with the new nonce. */
  challenge(stale = false): AuthHeader[] {
    const nonce = this.#options.nonces.issue()
    return this.#algorithms.map((algorithm) =>
      createChallenge({ realm: this.realm, nonce, algorithm, stale })
    )
  }

  /**
   * `source` is where the request came from; behind a trusted front the client it names is
   * judged instead (lockouts, known addresses, transports, the failure report).
   */
  async authenticate(
    request: SipRequest,
    from: SipDestination,
    options: AuthenticateOptions = {}
  ): Promise<DigestOutcome> {
    const source = clientOf(request, from)
    const given = this.#credentialsFor(request)
    if (!given) {
      // The first REGISTER of every phone comes without credentials: not a failure.
      return { kind: 'challenge', challenges: this.challenge() }
    }
    const { credentials, limiter, nonces, nonceCounts } = this.#options
    const username = given.get('username') ?? ''
    let storeFailed = false
    // With storesOptional, a store that cannot be reached answers `fallback` (and is told once).
    const orWithout = <T>(work: Promise<T>, fallback: T): Promise<T> =>
      options.storesOptional
        ? work.catch((error: unknown) => {
            if (!storeFailed) options.onStoreUnavailable?.(error)
            storeFailed = true
            return fallback
          })
        : work
    // Kept in memory by the application (a cache), so usually no round trip.
    const credential = await credentials.findByUsername(username)

    const algorithm = parseAlgorithm(given.get('algorithm'))
    const offered = algorithm !== undefined && this.#algorithms.includes(algorithm)
    const usedAlgorithm = offered ? algorithm : DigestAlgorithm.Md5
    const storedHa1 = credential?.realm === this.realm ? credential.ha1[usedAlgorithm] : undefined
    const responseMatches = verifyCredentials(given, {
      ha1: storedHa1 ?? this.#dummyHa1[usedAlgorithm],
      algorithm: usedAlgorithm,
      realm: this.realm,
      method: request.method,
      body: request.body,
    })
    // RFC 7616 requires qop; without it there is no nonce count and so no replay protection.
    const qop = given.get('qop')
    const proven =
      responseMatches &&
      offered &&
      storedHa1 !== undefined &&
      qop !== undefined &&
      this.#uriMatches(given.get('uri'), request.uri)
    // A web phone login is for the browser: over any other transport it is a wrong password.
    const transportAllowed =
      !credential?.transports || credential.transports.includes(source.protocol)
    // The right password over a transport it is for: what the lock, the nonce count and the
    // answer below all ask.
    const rightCredentials = proven && transportAllowed
    const nonce = given.get('nonce') ?? ''
    const nonceState = nonces.check(nonce)

    // The locks are read and, for a proof on a fresh nonce, its count advanced at once: two
    // commands in the same turn, one round trip to a shared store instead of two in a row (issue
    // 17). A count advanced for an attempt that a lock then refuses is only a count spent: the
    // same count could never be used again anyway.
    const advancing = rightCredentials && nonceState === 'fresh'
    const [attempt, advanced] = await Promise.all([
      orWithout(limiter.attempt(source.host, username), { locked: [], usernameFailures: 0 }),
      advancing
        ? orWithout(
            nonceCounts.advance(
              nonce,
              Number.parseInt(given.get('nc') ?? '0', 16),
              nonces.lifetimeSeconds
            ),
            true
          )
        : false,
    ])
    const locked = attempt.locked.length > 0
    // The right password from an address the owner proved it from before passes a lock: a lock on
    // a shared office address must not shut out the phones that work there.
    const knownAddress = credential?.knownAddresses?.includes(source.host) ?? false
    const lockApplies = locked && !(rightCredentials && knownAddress)

    if (rightCredentials && !lockApplies) {
      if (nonceState === 'stale') {
        return { kind: 'challenge', challenges: this.challenge(true) }
      }
      if (nonceState === 'fresh') {
        if (advanced) {
          await orWithout(limiter.recordSuccess(username, attempt), undefined)
          return { kind: 'authenticated', credential: credential! }
        }
        // A refresh that re-sends its old nonce (sip.js, the web phone, answers every later
        // REGISTER with its first nonce and nc=1): a fresh nonce, flagged stale, and no event.
        // A replayed capture gets the same and cannot answer it without the password.
        return { kind: 'challenge', challenges: this.challenge(true) }
      }
      return this.#refuse(source, username, credential, 'foreign_nonce', true, orWithout)
    }

    if (lockApplies) {
      // Right credentials during a lock are refused but not counted: the owner's phone retrying
      // with the right password must not keep its own lock alive. Nor do they get a stale hint,
      // which would tell a guesser that the password is right.
      return this.#refuse(source, username, credential, 'locked', !rightCredentials, orWithout)
    }
    const reason: AuthFailureReason = !credential
      ? 'unknown_username'
      : !proven
        ? storedHa1 !== undefined && responseMatches && offered && qop !== undefined
          ? 'uri_mismatch'
          : 'wrong_credentials'
        : 'transport_not_allowed'
    return this.#refuse(source, username, credential, reason, true, orWithout)
  }

  async #refuse(
    source: SipDestination,
    username: string,
    credential: SipCredential | undefined,
    reason: AuthFailureReason,
    counted: boolean,
    orWithout: <T>(work: Promise<T>, fallback: T) => Promise<T>
  ): Promise<DigestOutcome> {
    const { limiter, onFailure } = this.#options
    const lockedNow = counted
      ? await orWithout(limiter.recordFailure(source.host, username), [] as LockScope[])
      : []
    await onFailure({
      source,
      username: username.slice(0, MAX_LOGGED_USERNAME),
      credential,
      reason,
      lockedNow,
    })
    return { kind: 'challenge', challenges: this.challenge() }
  }

  /** The Digest credentials for our realm; other realms' (meant for a proxy further on) are ignored. */
  #credentialsFor(request: SipRequest): AuthHeader | undefined {
    return request.authorization.find(
      (header) => header.scheme.toLowerCase() === 'digest' && header.get('realm') === this.realm
    )
  }

  /**
   * The digest uri must name the Request-URI (RFC 3261 22.4), so that credentials captured for
   * one request cannot be used for another. Compared as URIs: case of scheme and host, and
   * parameter order, do not matter.
   */
  #uriMatches(digestUri: string | undefined, requestUri: SipUri): boolean {
    if (digestUri === undefined) {
      return false
    }
    let parsed: SipUri
    try {
      parsed = SipUri.parse(digestUri)
    } catch (error) {
      if (error instanceof SipParseError) {
        return false
      }
      throw error
    }
    const sameParams =
      parsed.params.size === requestUri.params.size &&
      [...parsed.params].every(([name, value]) => requestUri.params.get(name) === value)
    return (
      parsed.scheme === requestUri.scheme &&
      parsed.user === requestUri.user &&
      parsed.host.toLowerCase() === requestUri.host.toLowerCase() &&
      parsed.port === requestUri.port &&
      sameParams
    )
  }
}
