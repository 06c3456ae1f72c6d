import {
  DialogEventNotifier,
  type DialogInfoEntry,
  type SipClock,
  type SipDestination,
  type SipRequest,
  type SipStack,
  type SubscriptionDecision,
  randomBase64url,
} from '#sip'
import User from '#accounts/models/user'
import InternalLine from '#calls/models/internal_line'
import InternalSetting from '#calls/models/internal_setting'
import { sipSubjectParts } from '#calls/signalling/sip_subject'
import type CallSession from '#calls/b2bua/call_session'
import { CallPhase } from '#calls/b2bua/call_session'

/** The resource key of a user's line in the notifier. */
export function lampOf(userId: number): string {
  return `user:${userId}`
}

/**
 * Busy-lamp fields for SIP desk phones: a phone subscribes (RFC 6665, dialog package RFC 4235)
 * to a colleague's extension and is told when the colleague's line rings, talks and is free
 * again. Only colleagues of the same company, only where the company has presence on and the
 * colleague does not hide it (the same rules as the web phone's colleague list). The dialogs
 * carry a random id per call and no parties: who calls whom is not told. Subscriptions and the
 * current states live in this node's memory only; calls on other nodes are not seen.
 */
export default class BusyLamps {
  readonly notifier: DialogEventNotifier
  readonly #stack: SipStack
  /** The users each live call involves, with their entry (to tell them when they leave it). */
  readonly #sessions = new Map<CallSession, Map<number, DialogInfoEntry>>()
  /** Per user: their live calls' entries. */
  readonly #lines = new Map<number, Map<string, DialogInfoEntry>>()
  readonly #ids = new WeakMap<CallSession, string>()

  constructor(stack: SipStack, clock: SipClock, onError: (error: unknown) => void) {
    this.#stack = stack
    this.notifier = new DialogEventNotifier({
      core: stack.core,
      clock,
      authorize: (request, source) => this.authorize(request, source),
      onError,
    })
    // Phones are told their subscriptions end (deactivated: they may subscribe again elsewhere).
    stack.beforeClose(async () => this.notifier.endAll())
  }

  attach() {
    this.notifier.attach()
  }

  close() {
    this.notifier.close()
  }

  /** Digest first (as for INVITEs), then: same company, a known extension, presence allowed. */
  async authorize(request: SipRequest, source: SipDestination): Promise<SubscriptionDecision> {
    let outcome: Awaited<ReturnType<SipStack['authenticate']>>
    try {
      outcome = await this.#stack.authenticate(request, source)
    } catch (error) {
      // Redis out of reach (the digest's counters): 503, the phone tries again later, as REGISTER.
      const unavailable = this.#stack.unavailableAnswer(error)
      if (!unavailable) throw error
      return { kind: 'reject', ...unavailable }
    }
    if (outcome.kind === 'challenge') {
      return {
        kind: 'reject',
        status: 401,
        headers: outcome.challenges.map((challenge) => ['WWW-Authenticate', challenge.toString()]),
      }
    }
    const owner = sipSubjectParts(outcome.credential.subject)
    const user = owner ? await User.find(owner.userId) : null
    if (!owner || !user || user.companyId !== owner.companyId || user.disabledAt) {
      return { kind: 'reject', status: 403 }
    }
    const extension = request.uri.user
    const line =
      extension && /^\d{2,4}$/.test(extension)
        ? await InternalLine.query()
            .where('company_id', owner.companyId)
            .where('extension', extension)
            .first()
        : null
    const colleague = line ? await User.find(line.userId) : null
    if (!line || !colleague || colleague.companyId !== owner.companyId || colleague.disabledAt) {
      return { kind: 'reject', status: 404, reason: 'No such extension' }
    }
    const settings = await InternalSetting.find(owner.companyId)
    if (!settings?.presenceEnabled || !line.sharePresence) {
      return { kind: 'reject', status: 403, reason: 'Presence not shared' }
    }
    return { kind: 'accept', resource: lampOf(line.userId), subscriber: `user:${user.id}` }
  }

  /** A call's ringing or answer changed: the users it involves (or left) get their lamps updated. */
  sessionChanged(session: CallSession) {
    const id = this.#idOf(session)
    const now = new Map<number, DialogInfoEntry>()
    const { record } = session
    if (!session.ended) {
      if (record.userId !== null && record.direction !== 'inbound') {
        const state =
          session.phase === CallPhase.Answered
            ? 'confirmed'
            : session.phase === CallPhase.Ringing
              ? 'early'
              : 'trying'
        now.set(record.userId, { id, state, direction: 'initiator' })
      }
      for (const userId of session.ringingUserIds) {
        now.set(userId, { id, state: 'early', direction: 'recipient' })
      }
      const answered = session.answeredUserId
      if (answered !== null) now.set(answered, { id, state: 'confirmed', direction: 'recipient' })
    }
    const before = this.#sessions.get(session) ?? new Map<number, DialogInfoEntry>()
    for (const userId of new Set([...before.keys(), ...now.keys()])) {
      const entry = now.get(userId) ?? { ...before.get(userId)!, state: 'terminated' as const }
      const previous = before.get(userId)
      if (previous && previous.state === entry.state) continue
      const line = this.#lines.get(userId) ?? new Map<string, DialogInfoEntry>()
      line.set(id, entry)
      this.notifier.publish(lampOf(userId), [...line.values()])
      if (entry.state === 'terminated') line.delete(id)
      if (line.size > 0) this.#lines.set(userId, line)
      else this.#lines.delete(userId)
    }
    if (session.ended || now.size === 0) this.#sessions.delete(session)
    else this.#sessions.set(session, now)
  }

  #idOf(session: CallSession): string {
    let id = this.#ids.get(session)
    if (!id) {
      // From the SIP stack's pool of random bytes: one CSPRNG call per many calls, not one each.
      id = randomBase64url(8)
      this.#ids.set(session, id)
    }
    return id
  }
}
