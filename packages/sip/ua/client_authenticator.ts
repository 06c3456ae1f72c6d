import type SipRequest from '#sip/message/sip_request'
import type SipResponse from '#sip/message/sip_response'
import {
  DigestClient,
  selectChallenge,
  type AuthorizationHeader,
  type DigestCredentials,
} from '#sip/auth/digest'
import { randomToken, type TokenSource } from '#sip/message/random_token'

export interface ChallengeInfo {
  realm: string
  /** True for a 407 from a proxy, false for a 401 from the target. */
  proxy: boolean
}

/** Supplies credentials for a challenge, e.g. per carrier from the carrier configuration. */
export interface SipCredentialsProvider {
  credentialsFor(challenge: ChallengeInfo, request: SipRequest): DigestCredentials | undefined
}

/**
 * Answers 401/407 challenges. One DigestClient per username is kept so that a nonce used again
 * (a preemptive refresh, a second request) gets the next nonce count (RFC 7616 3.4).
 */
export default class ClientAuthenticator {
  readonly #provider: SipCredentialsProvider | undefined
  readonly #cnonces: TokenSource
  #clients = new Map<string, { password: string; client: DigestClient }>()

  constructor(provider?: SipCredentialsProvider, cnonces: TokenSource = randomToken) {
    this.#provider = provider
    this.#cnonces = cnonces
  }

  /** The Authorization or Proxy-Authorization for the retried request, if we can answer at all. */
  authorize(
    challengeResponse: SipResponse,
    request: SipRequest,
    credentials?: DigestCredentials
  ): AuthorizationHeader | undefined {
    const proxy = challengeResponse.status === 407
    const challenge = selectChallenge(
      proxy ? challengeResponse.proxyAuthenticate : challengeResponse.wwwAuthenticate
    )
    if (!challenge) {
      return undefined
    }
    const chosen =
      credentials ?? this.#provider?.credentialsFor({ realm: challenge.realm, proxy }, request)
    if (!chosen) {
      return undefined
    }
    return this.#clientFor(chosen).authorize(challengeResponse, request)
  }

  #clientFor(credentials: DigestCredentials): DigestClient {
    const known = this.#clients.get(credentials.username)
    if (known && known.password === credentials.password) {
      return known.client
    }
    const client = new DigestClient(credentials, this.#cnonces)
    this.#clients.set(credentials.username, { password: credentials.password, client })
    return client
  }
}
