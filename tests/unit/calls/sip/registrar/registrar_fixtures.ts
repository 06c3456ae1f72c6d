import { DigestAlgorithm, DigestClient, computeHa1 } from '#sip/auth/digest'
import type SipRequest from '#sip/message/sip_request'
import type SipResponse from '#sip/message/sip_response'
import type { SipDestination } from '#sip/transaction/transaction_transport'
import type { AuditRecord } from '#accounts/services/audit_log'
import MemoryCounterStore from '#core/counters/memory_counter_store'
import DigestAuthenticator from '#sip/registrar/digest_authenticator'
import DigestNonceIssuer from '#sip/registrar/digest_nonce_issuer'
import MemoryNonceCountStore from '#sip/registrar/memory_nonce_count_store'
import type { NonceCountStore } from '#sip/registrar/nonce_count_store'
import type { FailureCounters } from '#sip/registrar/failure_counters'
import AuthFailureLimiter from '#sip/registrar/auth_failure_limiter'
import MemoryBindingStore from '#sip/registrar/memory_binding_store'
import Registrar from '#sip/registrar/registrar'
import { DEFAULT_LOCKOUT } from '#sip/registrar/registrar_settings'
import { authFailureAuditEntries } from '#calls/signalling/auth_failure_audit'
import type { SipCredential, SipCredentialStore } from '#sip/registrar/sip_credential'
import { sipSubject, type SipSubjectParts } from '#calls/signalling/sip_subject'
import { parseRequest } from '#tests/unit/calls/sip/sip_fixtures'

export const REALM = 'sip.fluffycall.test'
export const SECRET = Buffer.from('a test secret for nonces, 32 bytes!')

export function udpSource(host = '198.51.100.7', port = 5062): SipDestination {
  return { protocol: 'udp', host, port }
}

export interface Device {
  username: string
  password: string
  credential: SipCredential
  /** Whom the credential's subject names, as the calls module reads it. */
  owner: SipSubjectParts
}

let deviceSequence = 0

/** A device as SipDeviceService would store it: only HA1 values. */
export function makeDevice(userId = 1, password = 'pa55-Word-correct'): Device {
  deviceSequence += 1
  const username = `fctest${deviceSequence}`
  const owner = { userId, companyId: 100 + userId, deviceId: deviceSequence }
  return {
    username,
    password,
    owner,
    credential: {
      username,
      realm: REALM,
      ha1: {
        [DigestAlgorithm.Md5]: computeHa1(DigestAlgorithm.Md5, username, REALM, password),
        [DigestAlgorithm.Sha256]: computeHa1(DigestAlgorithm.Sha256, username, REALM, password),
      },
      subject: sipSubject(owner),
    },
  }
}

/** A web phone login as WebPhoneCredentialService gives it: WebSocket only. */
export function makeWebPhoneLogin(userId = 1, password = 'web-phone-pa55word-long'): Device {
  const device = makeDevice(userId, password)
  const owner = {
    ...device.owner,
    webPhoneCredentialId: device.owner.deviceId,
    deviceId: undefined,
  }
  delete owner.deviceId
  return {
    ...device,
    owner,
    credential: { ...device.credential, subject: sipSubject(owner), transports: ['ws', 'wss'] },
  }
}

export function wsSource(host = '198.51.100.7', port = 50_000): SipDestination {
  return { protocol: 'ws', host, port, connectionId: `ws-${host}-${port}` }
}

export class MapCredentialStore implements SipCredentialStore {
  readonly devices = new Map<string, SipCredential>()
  readonly registered: Array<{ username: string; at: Date }> = []
  readonly refused: Array<{ username: string; protocol: string; reason: string }> = []

  add(...devices: Device[]) {
    for (const device of devices) {
      this.devices.set(device.username, device.credential)
    }
    return this
  }

  async findByUsername(username: string) {
    return this.devices.get(username)
  }

  async noteRefused(credential: SipCredential, _at: Date, source: SipDestination, reason: string) {
    this.refused.push({ username: credential.username, protocol: source.protocol, reason })
  }

  /** Remembers the source as a known address of the credential, as SipDeviceService does. */
  async noteRegistered(credential: SipCredential, at: Date, source: SipDestination) {
    this.registered.push({ username: credential.username, at })
    const stored = this.devices.get(credential.username)
    if (stored && !stored.knownAddresses?.includes(source.host)) {
      stored.knownAddresses = [...(stored.knownAddresses ?? []), source.host]
    }
  }
}

export interface RegisterOptions {
  username: string
  contacts?: string[]
  expires?: number
  callId?: string
  cseq?: number
  authorization?: string
  requestUri?: string
  toUser?: string
}

export function register(options: RegisterOptions): SipRequest {
  const uri = options.requestUri ?? `sip:${REALM}`
  const toUser = options.toUser ?? options.username
  const lines = [
    `REGISTER ${uri} SIP/2.0`,
    'Via: SIP/2.0/UDP 192.0.2.50:5062;branch=z9hG4bK' + Math.random().toString(36).slice(2),
    'Max-Forwards: 70',
    `From: <sip:${toUser}@${REALM}>;tag=reg${options.cseq ?? 1}`,
    `To: <sip:${toUser}@${REALM}>`,
    `Call-ID: ${options.callId ?? 'reg-call-1@192.0.2.50'}`,
    `CSeq: ${options.cseq ?? 1} REGISTER`,
    ...(options.contacts ?? ['<sip:phone@192.0.2.50:5062>']).map(
      (contact) => `Contact: ${contact}`
    ),
    ...(options.expires !== undefined ? [`Expires: ${options.expires}`] : []),
    ...(options.authorization ? [`Authorization: ${options.authorization}`] : []),
    'Content-Length: 0',
    '',
    '',
  ]
  return parseRequest(lines.join('\r\n'))
}

export class TestClock {
  constructor(public time = 1_700_000_000_000) {}
  now = () => this.time
  advance(ms: number) {
    this.time += ms
  }
}

export interface Harness {
  clock: TestClock
  credentials: MapCredentialStore
  audit: AuditRecord[]
  authenticator: DigestAuthenticator
  registrar: Registrar
  bindings: MemoryBindingStore
  nonces: DigestNonceIssuer
  limiter: AuthFailureLimiter
}

export function makeHarness(
  devices: Device[] = [],
  stores: { counters?: FailureCounters; nonceCounts?: NonceCountStore } = {}
): Harness {
  const clock = new TestClock()
  const credentials = new MapCredentialStore().add(...devices)
  const audit: AuditRecord[] = []
  const nonces = new DigestNonceIssuer(SECRET, 300_000, clock.now)
  const limiter = new AuthFailureLimiter(
    stores.counters ?? new MemoryCounterStore(clock.now),
    DEFAULT_LOCKOUT
  )
  const authenticator = new DigestAuthenticator({
    realm: REALM,
    credentials,
    nonces,
    nonceCounts: stores.nonceCounts ?? new MemoryNonceCountStore(clock.now),
    limiter,
    onFailure: async (failure) => audit.push(...authFailureAuditEntries(failure)),
  })
  const bindings = new MemoryBindingStore(clock.now)
  const registrar = new Registrar({
    settings: {
      realm: REALM,
      minExpires: 60,
      maxExpires: 3600,
      defaultExpires: 3600,
      maxBindingsPerAor: 10,
    },
    authenticator,
    bindings,
    credentials,
    now: clock.now,
  })
  return { clock, credentials, audit, authenticator, registrar, bindings, nonces, limiter }
}

/**
 * Sends a REGISTER, answers the 401 like a phone would (DigestClient, with the given password)
 * and returns the final response.
 */
export async function registerWithPassword(
  registrar: Registrar,
  options: RegisterOptions & { password: string; source?: SipDestination }
): Promise<{ first: SipResponse; final: SipResponse }> {
  const source = options.source ?? udpSource()
  const cseq = options.cseq ?? 1
  const first = await registrar.handle(register({ ...options, cseq }), source)
  if (first.status !== 401) {
    return { first, final: first }
  }
  const retry = register({ ...options, cseq: cseq + 1 })
  const client = new DigestClient({ username: options.username, password: options.password })
  const header = client.authorize(first, retry)
  if (!header) {
    throw new Error('the 401 carried no challenge the client could answer')
  }
  const final = await registrar.handle(
    register({ ...options, cseq: cseq + 1, authorization: header.value }),
    source
  )
  return { first, final }
}

/** The challenge-relevant shape of a response: status, header names, challenge parameter names and fixed values. */
export function challengeShape(response: SipResponse) {
  return {
    status: response.status,
    reason: response.reason,
    headerNames: [...response.headers.entries()].map(([name]) => name),
    challenges: response.wwwAuthenticate.map((challenge) => ({
      scheme: challenge.scheme,
      names: challenge.parameters.map((parameter) => parameter.name),
      realm: challenge.get('realm'),
      algorithm: challenge.get('algorithm'),
      qop: challenge.get('qop'),
      stale: challenge.get('stale'),
      nonceLength: challenge.get('nonce')?.length,
    })),
  }
}
