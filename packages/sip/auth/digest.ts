import { hash, timingSafeEqual } from 'node:crypto'
import AuthHeader, { type AuthParameter } from '#sip/message/auth_header'
import type SipRequest from '#sip/message/sip_request'
import type SipResponse from '#sip/message/sip_response'
import { randomToken, type TokenSource } from '#sip/message/random_token'

/** RFC 7616 3.3 algorithms, as RFC 8760 brings them to SIP. */
export enum DigestAlgorithm {
  Md5 = 'MD5',
  Md5Sess = 'MD5-sess',
  Sha256 = 'SHA-256',
  Sha256Sess = 'SHA-256-sess',
  Sha512_256 = 'SHA-512-256',
  Sha512_256Sess = 'SHA-512-256-sess',
}

/** Preferred first when a 401/407 offers several challenges (RFC 8760 2.4). */
const ALGORITHM_PREFERENCE = [
  DigestAlgorithm.Sha512_256,
  DigestAlgorithm.Sha512_256Sess,
  DigestAlgorithm.Sha256,
  DigestAlgorithm.Sha256Sess,
  DigestAlgorithm.Md5,
  DigestAlgorithm.Md5Sess,
]

const HASHES: Record<DigestAlgorithm, string> = {
  [DigestAlgorithm.Md5]: 'md5',
  [DigestAlgorithm.Md5Sess]: 'md5',
  [DigestAlgorithm.Sha256]: 'sha256',
  [DigestAlgorithm.Sha256Sess]: 'sha256',
  [DigestAlgorithm.Sha512_256]: 'sha512-256',
  [DigestAlgorithm.Sha512_256Sess]: 'sha512-256',
}

export function parseAlgorithm(text: string | undefined): DigestAlgorithm | undefined {
  if (text === undefined) {
    // RFC 2617 3.2.1: an absent algorithm means MD5.
    return DigestAlgorithm.Md5
  }
  return Object.values(DigestAlgorithm).find((value) => value.toLowerCase() === text.toLowerCase())
}

function isSession(algorithm: DigestAlgorithm): boolean {
  return algorithm.endsWith('-sess')
}

export function digestHash(algorithm: DigestAlgorithm, text: string | Buffer): string {
  return hash(HASHES[algorithm], text, 'hex')
}

/** H(username:realm:password): what a registrar stores instead of the password. */
export function computeHa1(
  algorithm: DigestAlgorithm,
  username: string,
  realm: string,
  password: string
): string {
  return digestHash(algorithm, `${username}:${realm}:${password}`)
}

export interface DigestResponseInput {
  algorithm: DigestAlgorithm
  /** H(username:realm:password), for -sess algorithms too (the session key is derived here). */
  ha1: string
  nonce: string
  method: string
  uri: string
  /** 'auth', 'auth-int' or undefined for the RFC 2069 form without qop. */
  qop?: 'auth' | 'auth-int'
  nc?: string
  cnonce?: string
  /** The message body, for qop=auth-int. */
  body?: Buffer
}

/** The request-digest of RFC 2617 3.2.2.1 / RFC 7616 3.4.1. */
export function computeDigestResponse(input: DigestResponseInput): string {
  const { algorithm, nonce, qop, nc = '', cnonce = '' } = input
  const ha1 = isSession(algorithm)
    ? digestHash(algorithm, `${input.ha1}:${nonce}:${cnonce}`)
    : input.ha1
  const bodyHash = digestHash(algorithm, input.body ?? Buffer.alloc(0))
  const ha2 =
    qop === 'auth-int'
      ? digestHash(algorithm, `${input.method}:${input.uri}:${bodyHash}`)
      : digestHash(algorithm, `${input.method}:${input.uri}`)
  if (qop === undefined) {
    return digestHash(algorithm, `${ha1}:${nonce}:${ha2}`)
  }
  return digestHash(algorithm, `${ha1}:${nonce}:${nc}:${cnonce}:${qop}:${ha2}`)
}

export interface DigestChallenge {
  realm: string
  nonce: string
  algorithm: DigestAlgorithm
  /** qop-options offered; empty for an RFC 2069 challenge. */
  qop: string[]
  opaque?: string
  stale: boolean
}

/** Reads a Digest challenge; undefined for other schemes, unknown algorithms or missing fields. */
export function readChallenge(header: AuthHeader): DigestChallenge | undefined {
  if (header.scheme.toLowerCase() !== 'digest') {
    return undefined
  }
  const realm = header.get('realm')
  const nonce = header.get('nonce')
  const algorithm = parseAlgorithm(header.get('algorithm'))
  if (realm === undefined || nonce === undefined || algorithm === undefined) {
    return undefined
  }
  const qop = (header.get('qop') ?? '')
    .split(',')
    .map((option) => option.trim().toLowerCase())
    .filter((option) => option.length > 0)
  return {
    realm,
    nonce,
    algorithm,
    qop,
    opaque: header.get('opaque'),
    stale: header.get('stale')?.toLowerCase() === 'true',
  }
}

/** The strongest supported challenge among those of a 401 or 407. */
export function selectChallenge(headers: readonly AuthHeader[]): DigestChallenge | undefined {
  const challenges = headers
    .map(readChallenge)
    .filter((challenge): challenge is DigestChallenge => challenge !== undefined)
  challenges.sort(
    (a, b) => ALGORITHM_PREFERENCE.indexOf(a.algorithm) - ALGORITHM_PREFERENCE.indexOf(b.algorithm)
  )
  return challenges[0]
}

export interface DigestCredentials {
  username: string
  password: string
}

export interface AuthorizationHeader {
  name: 'Authorization' | 'Proxy-Authorization'
  value: string
}

function formatNonceCount(count: number): string {
  return count.toString(16).padStart(8, '0')
}

/**
 * The client side: answers 401/407 challenges for one set of credentials. It counts nonce uses
 * (nc) per nonce so that a reused nonce gets increasing counts (RFC 7616 3.4), and uses qop=auth
 * whenever the server offers it.
 */
export class DigestClient {
  readonly #credentials: DigestCredentials
  readonly #cnonces: TokenSource
  #nonceCounts = new Map<string, number>()

  constructor(credentials: DigestCredentials, cnonces: TokenSource = randomToken) {
    this.#credentials = credentials
    this.#cnonces = cnonces
  }

  /** The header to add to the retried request, or undefined if no challenge can be answered. */
  authorize(challengeResponse: SipResponse, request: SipRequest): AuthorizationHeader | undefined {
    const proxy = challengeResponse.status === 407
    const challenge = selectChallenge(
      proxy ? challengeResponse.proxyAuthenticate : challengeResponse.wwwAuthenticate
    )
    if (!challenge) {
      return undefined
    }
    const uri = request.uri.toString()
    return {
      name: proxy ? 'Proxy-Authorization' : 'Authorization',
      value: this.credentialsFor(challenge, request.method, uri, request.body).toString(),
    }
  }

  credentialsFor(
    challenge: DigestChallenge,
    method: string,
    uri: string,
    body: Buffer = Buffer.alloc(0)
  ): AuthHeader {
    const { username, password } = this.#credentials
    const qop = challenge.qop.includes('auth')
      ? 'auth'
      : challenge.qop.includes('auth-int')
        ? 'auth-int'
        : undefined
    const parameters: AuthParameter[] = [
      { name: 'username', value: username, quoted: true },
      { name: 'realm', value: challenge.realm, quoted: true },
      { name: 'nonce', value: challenge.nonce, quoted: true },
      { name: 'uri', value: uri, quoted: true },
    ]
    let nc: string | undefined
    let cnonce: string | undefined
    if (qop) {
      const count = (this.#nonceCounts.get(challenge.nonce) ?? 0) + 1
      this.#nonceCounts.set(challenge.nonce, count)
      nc = formatNonceCount(count)
      cnonce = this.#cnonces()
    }
    const response = computeDigestResponse({
      algorithm: challenge.algorithm,
      ha1: computeHa1(challenge.algorithm, username, challenge.realm, password),
      nonce: challenge.nonce,
      method,
      uri,
      qop,
      nc,
      cnonce,
      body,
    })
    parameters.push({ name: 'response', value: response, quoted: true })
    parameters.push({ name: 'algorithm', value: challenge.algorithm, quoted: false })
    if (challenge.opaque !== undefined) {
      parameters.push({ name: 'opaque', value: challenge.opaque, quoted: true })
    }
    if (qop && nc && cnonce) {
      parameters.push({ name: 'qop', value: qop, quoted: false })
      parameters.push({ name: 'nc', value: nc, quoted: false })
      parameters.push({ name: 'cnonce', value: cnonce, quoted: true })
    }
    return new AuthHeader('Digest', parameters)
  }
}

/** A challenge for a 401/407 from our registrar; the nonce is the caller's to issue and check. */
export function createChallenge(options: {
  realm: string
  nonce: string
  algorithm?: DigestAlgorithm
  opaque?: string
  stale?: boolean
}): AuthHeader {
  const parameters: AuthParameter[] = [
    { name: 'realm', value: options.realm, quoted: true },
    { name: 'nonce', value: options.nonce, quoted: true },
    { name: 'algorithm', value: options.algorithm ?? DigestAlgorithm.Md5, quoted: false },
    { name: 'qop', value: 'auth', quoted: true },
  ]
  if (options.opaque !== undefined) {
    parameters.push({ name: 'opaque', value: options.opaque, quoted: true })
  }
  if (options.stale) {
    parameters.push({ name: 'stale', value: 'true', quoted: false })
  }
  return new AuthHeader('Digest', parameters)
}

export interface DigestVerification {
  /** The stored H(username:realm:password) for the credentials' username and realm. */
  ha1: string
  /** The algorithm the stored HA1 was computed with. */
  algorithm: DigestAlgorithm
  realm: string
  method: string
  body?: Buffer
}

/**
 * Server side: checks credentials against a stored HA1 in constant time. The caller still has to
 * check that the nonce is one it issued and is fresh, that nc grows, and that `uri` names the
 * Request-URI; the username is its lookup key and is not compared again here.
 */
export function verifyCredentials(credentials: AuthHeader, expected: DigestVerification): boolean {
  if (credentials.scheme.toLowerCase() !== 'digest') {
    return false
  }
  const nonce = credentials.get('nonce')
  const uri = credentials.get('uri')
  const response = credentials.get('response')
  const qop = credentials.get('qop')?.toLowerCase()
  if (
    nonce === undefined ||
    uri === undefined ||
    response === undefined ||
    credentials.get('realm') !== expected.realm ||
    parseAlgorithm(credentials.get('algorithm')) !== expected.algorithm ||
    (qop !== undefined && qop !== 'auth' && qop !== 'auth-int')
  ) {
    return false
  }
  const nc = credentials.get('nc')
  const cnonce = credentials.get('cnonce')
  const badCount = nc === undefined || !/^[0-9a-fA-F]{8}$/.test(nc)
  if (qop !== undefined && (badCount || cnonce === undefined)) {
    return false
  }
  const computed = computeDigestResponse({
    algorithm: expected.algorithm,
    ha1: expected.ha1,
    nonce,
    method: expected.method,
    uri,
    qop: qop as 'auth' | 'auth-int' | undefined,
    nc,
    cnonce,
    body: expected.body,
  })
  const given = Buffer.from(response.toLowerCase())
  const wanted = Buffer.from(computed)
  return given.length === wanted.length && timingSafeEqual(given, wanted)
}
