import NameAddress from '#sip/message/name_address'
import SipUri from '#sip/message/sip_uri'
import type SipRequest from '#sip/message/sip_request'
import type SipResponse from '#sip/message/sip_response'
import { createResponse } from '#sip/message/create_response'
import type { SipDestination } from '#sip/transaction/transaction_transport'
import type { Binding } from '#sip/registrar/binding'
import type { BindingStore } from '#sip/registrar/binding_store'
import type DigestAuthenticator from '#sip/registrar/digest_authenticator'
import {
  ENCRYPTED_TRANSPORTS,
  type SipCredential,
  type SipCredentialStore,
} from '#sip/registrar/sip_credential'
import type { RegistrarSettings } from '#sip/registrar/registrar_settings'
import { clientOf } from '#sip/transport/trusted_fronts'

/** Who is registering, once authenticated by digest. */
interface RegistrationIdentity {
  aor: string
  /** The user part the REGISTER's To URI must carry. */
  username: string
  /** The credential's subject, in the owner's words; the bindings carry it. */
  subject: string
}

export interface RegistrarOptions {
  settings: Pick<
    RegistrarSettings,
    'realm' | 'minExpires' | 'maxExpires' | 'defaultExpires' | 'maxBindingsPerAor'
  >
  authenticator: DigestAuthenticator
  bindings: BindingStore
  /** Told about successful registrations (the devices page shows when a phone last registered). */
  credentials?: SipCredentialStore
  now?: () => number
  /** Bookkeeping after the answer failed (the last-registered timestamp); logged by the owner. */
  onError?: (error: unknown) => void
}

/** An RFC 3261 expires value; larger numbers are refused by the parser for the header too. */
const EXPIRES_VALUE = /^\d{1,10}$/

interface ContactChange {
  contact: NameAddress
  contactUri: string
  expires: number
}

/**
 * The REGISTER side of RFC 3261 10.3. `handle` returns the response instead of sending it, so
 * whoever wires it to a server transaction just sends what it gets; `lookup` and `lookupSubject`
 * give the live bindings for inbound calls.
 */
export default class Registrar {
  readonly #options: RegistrarOptions
  readonly #now: () => number

  constructor(options: RegistrarOptions) {
    this.#options = options
    this.#now = options.now ?? Date.now
  }

  /** The AOR of a device: its username in our realm. */
  static aorFor(username: string, realm: string): string {
    return `sip:${username}@${realm}`
  }

  /**
   * Answers a REGISTER from `source`; digest decides who it is (the web phone too). Behind a
   * trusted front the client it names (request.client) is judged, and the binding keeps the
   * REGISTER's Path and the client's flow there.
   */
  async handle(request: SipRequest, source: SipDestination): Promise<SipResponse> {
    if (request.method !== 'REGISTER') {
      return createResponse(request, 405, { headers: [['Allow', 'REGISTER']] })
    }
    const client = clientOf(request, source)
    const outcome = await this.#options.authenticator.authenticate(request, source)
    if (outcome.kind === 'challenge') {
      return createResponse(request, 401, {
        headers: outcome.challenges.map((challenge) => ['WWW-Authenticate', challenge.toString()]),
      })
    }
    const credential: SipCredential = outcome.credential
    const who: RegistrationIdentity = {
      aor: Registrar.aorFor(credential.username, this.#options.settings.realm),
      username: credential.username,
      subject: credential.subject,
    }
    // RFC 3261 10.3 step 6: credentials for one device may change only that device's bindings.
    const to = request.to.uri
    if (!(to instanceof SipUri) || to.user !== who.username) {
      return createResponse(request, 403, { reason: 'To does not match the credentials' })
    }
    if (credential.encryptedTransportOnly && !ENCRYPTED_TRANSPORTS.has(client.protocol)) {
      const noted = this.#options.credentials?.noteRefused?.(
        credential,
        new Date(this.#now()),
        client,
        'plain_registration'
      )
      noted?.catch((error) => this.#options.onError?.(error))
      return createResponse(request, 403, { reason: 'Encryption required: register over TLS' })
    }

    const response = request.isWildcardContact
      ? await this.#removeAll(request, who)
      : await this.#update(request, source, who)
    if (response.status === 200 && request.contacts.length > 0) {
      // Not awaited: the binding is live from here on, and an INVITE to it must not overtake
      // the 200 while a slow database records when the phone last registered (informational).
      const noted = this.#options.credentials?.noteRegistered?.(
        credential,
        new Date(this.#now()),
        client
      )
      noted?.catch((error) => this.#options.onError?.(error))
    }
    return response
  }

  /** Live bindings of an address-of-record. */
  lookup(aor: string): Promise<Binding[]> {
    return this.#options.bindings.list(aor)
  }

  /**
   * Live bindings whose subject is `subject` or lies under it: all of one party's phones, the
   * targets of an inbound call (the owner chooses the subjects, see Binding.subject).
   */
  lookupSubject(subject: string): Promise<Binding[]> {
    return this.#options.bindings.listForSubject(subject)
  }

  async #update(
    request: SipRequest,
    source: SipDestination,
    who: RegistrationIdentity
  ): Promise<SipResponse> {
    const { bindings, settings } = this.#options
    // Path is believed only from a trusted front (it names the client): anyone else could steer
    // our requests to a host of their choosing.
    const path = request.client ? request.headers.getAll('path') : []
    if (path.some((hop) => !(NameAddress.tryParse(hop)?.uri instanceof SipUri))) {
      return createResponse(request, 400, { reason: 'Path must list SIP URIs' })
    }
    const changes: ContactChange[] = []
    for (const contact of request.contacts) {
      if (!(contact.uri instanceof SipUri)) {
        return createResponse(request, 400, { reason: 'Contact must be a SIP or SIPS URI' })
      }
      const expires = this.#requestedExpires(request, contact)
      if (expires > 0 && expires < settings.minExpires) {
        // RFC 3261 10.3 step 7: nothing is changed, the client retries with at least Min-Expires.
        return createResponse(request, 423, {
          headers: [['Min-Expires', String(settings.minExpires)]],
        })
      }
      changes.push({
        contact,
        contactUri: contact.uri.toString(),
        expires: Math.min(expires, settings.maxExpires),
      })
    }

    const existing = await bindings.list(who.aor)
    const outOfOrder = changes.some((change) =>
      existing.some((binding) => this.#isOutOfOrder(binding, change.contactUri, request))
    )
    if (outOfOrder) {
      return createResponse(request, 400, { reason: 'Out-of-order CSeq for this Call-ID' })
    }
    const kept = new Set(existing.map((binding) => binding.contactUri))
    for (const change of changes) {
      if (change.expires > 0) {
        kept.add(change.contactUri)
      } else {
        kept.delete(change.contactUri)
      }
    }
    if (kept.size > settings.maxBindingsPerAor) {
      return createResponse(request, 403, { reason: 'Too many registered contacts' })
    }

    const now = this.#now()
    for (const change of changes) {
      if (change.expires === 0) {
        await bindings.remove({
          aor: who.aor,
          contactUri: change.contactUri,
          subject: who.subject,
        })
        continue
      }
      await bindings.save({
        aor: who.aor,
        contactUri: change.contactUri,
        contact: withoutExpires(change.contact).toString(),
        expiresAt: now + change.expires * 1000,
        registeredAt: now,
        callId: request.callId,
        cseq: request.cseq.sequence,
        source: { ...source },
        subject: who.subject,
        ...(path.length > 0 ? { path } : {}),
        ...(request.client ? { flow: request.client.flow } : {}),
      })
    }
    return this.#ok(request, who, path)
  }

  /** `Contact: *` with `Expires: 0` removes every binding of the AOR (RFC 3261 10.2.2). */
  async #removeAll(request: SipRequest, who: RegistrationIdentity): Promise<SipResponse> {
    if (request.expires !== 0) {
      return createResponse(request, 400, { reason: 'Wildcard Contact requires Expires: 0' })
    }
    const { bindings } = this.#options
    const existing = await bindings.list(who.aor)
    if (existing.some((binding) => this.#isOutOfOrder(binding, binding.contactUri, request))) {
      return createResponse(request, 400, { reason: 'Out-of-order CSeq for this Call-ID' })
    }
    for (const binding of existing) {
      await bindings.remove(binding)
    }
    return this.#ok(request, who)
  }

  /**
   * The 200 lists every current binding with the seconds it has left (RFC 3261 10.3 step 8), and
   * the Path it keeps when the client supports Path (RFC 3327 5.3).
   */
  async #ok(
    request: SipRequest,
    who: RegistrationIdentity,
    path: string[] = []
  ): Promise<SipResponse> {
    const now = this.#now()
    const current = await this.#options.bindings.list(who.aor)
    const headers: Array<[string, string]> = current.map((binding) => [
      'Contact',
      NameAddress.parse(binding.contact)
        .withParam('expires', String(Math.max(1, Math.ceil((binding.expiresAt - now) / 1000))))
        .toString(),
    ])
    const supported = request.headers.getAll('supported').map((tag) => tag.trim().toLowerCase())
    if (path.length > 0 && supported.includes('path')) {
      for (const hop of path) headers.push(['Path', hop])
    }
    headers.push(['Date', new Date(now).toUTCString()])
    return createResponse(request, 200, { headers })
  }

  #requestedExpires(request: SipRequest, contact: NameAddress): number {
    const param = contact.param('expires')
    if (typeof param === 'string' && EXPIRES_VALUE.test(param)) {
      return Number(param)
    }
    return request.expires ?? this.#options.settings.defaultExpires
  }

  /** RFC 3261 10.3 step 7: the same Call-ID must come with a higher CSeq, or the request fails. */
  #isOutOfOrder(binding: Binding, contactUri: string, request: SipRequest): boolean {
    return (
      binding.contactUri === contactUri &&
      binding.callId === request.callId &&
      request.cseq.sequence <= binding.cseq
    )
  }
}

function withoutExpires(contact: NameAddress): NameAddress {
  const params = new Map(contact.params)
  params.delete('expires')
  return new NameAddress(contact.uri, contact.displayName, params)
}
