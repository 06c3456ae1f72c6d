import { keepsReadAccess } from '#accounts/ended_account'
import { createHash } from 'node:crypto'
import { DateTime } from 'luxon'
import app from '@adonisjs/core/services/app'
import emitter from '@adonisjs/core/services/emitter'
import encryption from '@adonisjs/core/services/encryption'
import string from '@adonisjs/core/helpers/string'
import type { HttpRequest } from '@adonisjs/core/http'
import { SessionCollection } from '@adonisjs/session'
import User from '#accounts/models/user'
import Company from '#accounts/models/company'
import WebSession, { type WebSessionEndReason } from '#accounts/models/web_session'
import AuditLog from '#accounts/services/audit_log'
import { sqlTime } from '#core/sql_time'

/** The session lifetime of config/session.ts: a session unused for this long is over. */
export const WEB_SESSION_IDLE_SECONDS = string.seconds.parse('8h')
/** Last use is written at most this often (not on every request). */
const TOUCH_EVERY_SECONDS = 60

function digest(sessionId: string): string {
  return createHash('sha256').update(`web-session:${sessionId}`).digest('hex')
}

export interface ClientFacts {
  ip: string | null
  userAgent: string | null
}

/** What the register notes about the browser of a request. */
export function clientFacts(request: HttpRequest): ClientFacts {
  return { ip: request.ip(), userAgent: request.header('user-agent') ?? null }
}

/**
 * The register of logged-in web sessions (table web_sessions) next to the session store. Every
 * authenticated request is checked against it (WebSessionMiddleware), so a session ended here is
 * over at once on every node, whatever the store: a copied cookie opens nothing after logout,
 * revocation, a password or 2FA change, a disabled user or a terminated company. Ending a session
 * also destroys its data in the store and its web phone logins (user:logged_out).
 */
export default class WebSessionService {
  constructor(private readonly now: () => DateTime = () => DateTime.utc()) {}

  /** After a successful login: the (already regenerated) session id becomes a registered session. */
  async start(user: User, sessionId: string, client: ClientFacts): Promise<WebSession> {
    const now = this.now()
    return WebSession.create({
      userId: user.id,
      sessionDigest: digest(sessionId),
      sealedSessionId: encryption.encrypt(sessionId, undefined, 'web-session'),
      userAgent: client.userAgent?.slice(0, 512) ?? null,
      ip: client.ip,
      createdAt: now,
      lastUsedAt: now,
      expiresAt: now.plus({ seconds: WEB_SESSION_IDLE_SECONDS }),
      endedAt: null,
      endReason: null,
    })
  }

  /**
   * Checks an authenticated request's session: the live row, or null when the session is over
   * (then the caller logs the request out). A session the store knows as logged in but the register
   * does not (one that began before the register existed, or a test's loginAs) is registered now:
   * an ended session cannot come back this way, because ending destroys its store data.
   */
  async verify(user: User, sessionId: string, client: ClientFacts): Promise<WebSession | null> {
    const now = this.now()
    let row = await WebSession.findBy('sessionDigest', digest(sessionId))
    if (row && (row.endedAt || row.userId !== user.id)) return null
    if (row && row.expiresAt < now) {
      await this.#end([row], 'expired')
      return null
    }
    const ended = await this.#accountEnded(user)
    if (ended) {
      if (row) await this.#end([row], ended)
      else await this.#destroyStoreData(sessionId)
      return null
    }
    if (!row) return this.#adopt(user, sessionId, client)
    if (now.diff(row.lastUsedAt, 'seconds').seconds >= TOUCH_EVERY_SECONDS) {
      row.merge({
        lastUsedAt: now,
        expiresAt: now.plus({ seconds: WEB_SESSION_IDLE_SECONDS }),
        ip: client.ip,
        userAgent: client.userAgent?.slice(0, 512) ?? row.userAgent,
      })
      await row.save()
    }
    return row
  }

  /** Registers a session the register did not know; two parallel first requests register it once. */
  async #adopt(user: User, sessionId: string, client: ClientFacts): Promise<WebSession | null> {
    try {
      return await this.start(user, sessionId, client)
    } catch (error) {
      const row = await WebSession.findBy('sessionDigest', digest(sessionId))
      if (!row) throw error
      return row.endedAt || row.userId !== user.id ? null : row
    }
  }

  /** The user's live sessions, most recently used first. */
  async listFor(user: User): Promise<WebSession[]> {
    return WebSession.query()
      .where('user_id', user.id)
      .whereNull('ended_at')
      .where('expires_at', '>', sqlTime(this.now()))
      .orderBy('last_used_at', 'desc')
      .orderBy('id', 'desc')
  }

  /** Logout of this browser. */
  async endCurrent(sessionId: string, reason: WebSessionEndReason = 'logout'): Promise<boolean> {
    const row = await WebSession.query()
      .where('session_digest', digest(sessionId))
      .whereNull('ended_at')
      .first()
    if (row) await this.#end([row], reason)
    return Boolean(row)
  }

  /** The user ends one of their other sessions from the security page; false when it is not theirs or over. */
  async revoke(
    user: User,
    id: number,
    current: WebSession | undefined,
    ip: string | null
  ): Promise<boolean> {
    const row = await WebSession.query()
      .where('id', id)
      .where('user_id', user.id)
      .whereNull('ended_at')
      .first()
    if (!row || row.id === current?.id) return false
    await this.#end([row], 'revoked')
    await AuditLog.record({
      action: 'auth.sessions.revoked',
      actor: user,
      target: { type: 'user', id: user.id },
      details: { count: 1 },
      ip,
    })
    return true
  }

  /** "Log out everywhere else". */
  async revokeOthers(
    user: User,
    current: WebSession | undefined,
    ip: string | null
  ): Promise<number> {
    const query = WebSession.query().where('user_id', user.id).whereNull('ended_at')
    if (current) query.whereNot('id', current.id)
    const rows = await query
    await this.#end(rows, 'revoked_others')
    await AuditLog.record({
      action: 'auth.sessions.revoked',
      actor: user,
      target: { type: 'user', id: user.id },
      details: { count: rows.length },
      ip,
    })
    return rows.length
  }

  /** Every session of a user (password or 2FA changed, user disabled). */
  async endForUser(userId: number, reason: WebSessionEndReason): Promise<number> {
    const rows = await WebSession.query().where('user_id', userId).whereNull('ended_at')
    await this.#end(rows, reason)
    return rows.length
  }

  /** Every session of a company's users (termination). */
  async endForCompany(companyId: number, reason: WebSessionEndReason): Promise<number> {
    const rows = await WebSession.query()
      .whereIn('user_id', User.query().where('company_id', companyId).select('id'))
      .whereNull('ended_at')
    await this.#end(rows, reason)
    return rows.length
  }

  async #accountEnded(user: User): Promise<WebSessionEndReason | null> {
    if (user.disabledAt) return 'user_disabled'
    if (user.companyId !== null) {
      const company = await Company.find(user.companyId)
      if (!company) return 'company_terminated'
      if (company.status === 'terminated' && !(await keepsReadAccess(user, company)))
        return 'company_terminated'
    }
    return null
  }

  async #end(rows: WebSession[], reason: WebSessionEndReason) {
    if (rows.length === 0) return
    const now = this.now()
    await WebSession.query()
      .whereIn(
        'id',
        rows.map((row) => row.id)
      )
      .update({ ended_at: sqlTime(now), end_reason: reason })
    for (const row of rows) {
      row.endedAt = now
      row.endReason = reason
      const sessionId = encryption.decrypt<string>(row.sealedSessionId, 'web-session')
      if (!sessionId) continue
      await this.#destroyStoreData(sessionId)
      // The web phone logins issued to this session end with it (calls listens).
      await emitter.emit('user:logged_out', { userId: row.userId, sessionId })
    }
  }

  async #destroyStoreData(sessionId: string) {
    const sessions = await app.container.make(SessionCollection)
    await sessions.destroy(sessionId)
  }
}
