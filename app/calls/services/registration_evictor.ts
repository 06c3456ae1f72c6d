import app from '@adonisjs/core/services/app'
import type { SipStack, Binding } from '#sip'
import { userSubject } from '#calls/signalling/sip_subject'

/** Where the evictor finds the running SIP stack; undefined where none runs (ace commands). */
export type SipStackResolver = () => Promise<SipStack | undefined>

async function containerStack(): Promise<SipStack | undefined> {
  if (!app.container.hasBinding('sip.stack')) return undefined
  return app.container.make('sip.stack')
}

/**
 * Ends the registrations of revoked credentials at once instead of at their expiry: the bindings
 * are forgotten (inbound calls no longer ring them) and WebSocket clients lose their connection
 * (a web phone notices and asks for a new credential, which a logged-out browser cannot get).
 * Connections held by another node are not reached from here; that node refuses their next
 * REGISTER or INVITE because the credential is no longer live.
 */
export default class RegistrationEvictor {
  constructor(private readonly resolveStack: SipStackResolver = containerStack) {}

  /** Evicts the bindings of these addresses-of-record, all or those `which` picks; returns how many went. */
  async evictAors(
    aors: Iterable<string>,
    which: (binding: Binding) => boolean = () => true
  ): Promise<number> {
    const stack = await this.resolveStack()
    if (!stack) return 0
    let evicted = 0
    for (const aor of new Set(aors)) {
      evicted += await this.#evict(stack, (await stack.bindingsOf(aor)).filter(which))
    }
    return evicted
  }

  /** Evicts a user's bindings, all of them or those `which` picks. */
  async evictUser(
    userId: number,
    which: (binding: Binding) => boolean = () => true
  ): Promise<number> {
    const stack = await this.resolveStack()
    if (!stack) return 0
    return this.#evict(stack, (await stack.bindingsOfSubject(userSubject(userId))).filter(which))
  }

  async #evict(stack: SipStack, bindings: Binding[]): Promise<number> {
    for (const binding of bindings) await stack.evict(binding)
    return bindings.length
  }
}
