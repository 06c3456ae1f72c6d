import { createHash, randomBytes } from 'node:crypto'
import { DateTime } from 'luxon'
import app from '@adonisjs/core/services/app'
import db from '@adonisjs/lucid/services/db'
import type User from '#accounts/models/user'
import AuditLog from '#accounts/services/audit_log'
import { sqlTime } from '#core/sql_time'
import WebPhoneCredential from '#calls/models/web_phone_credential'
import InternalDirectory from '#calls/internal/internal_directory'
import NumberService from '#calls/services/number_service'
import RegistrationEvictor from '#calls/services/registration_evictor'
import { openHa1, randomSipUsername, sealHa1 } from '#calls/services/sealed_ha1'
import { Registrar, type SipCredential, type SipTransportProtocol, normalizeAddress } from '#sip'
import { configuredRealm } from '#calls/signalling/registrar_settings'
import { sipSubject } from '#calls/signalling/sip_subject'

/** How long a web phone login lives: a working day; the page fetches a new one when it reconnects. */
export const WEB_PHONE_CREDENTIAL_HOURS = 12
/** Answered by our own server (echo test), so a new user can check audio without a carrier. */
export const ECHO_TEST_NUMBER = '*43'
/** Where the SIP WebSocket is served (config/sip.ts `ws.path`), on the page's own origin. */
export const SIP_WEBSOCKET_PATH = '/sip'
/** Live logins per user (one per open tab); the oldest are revoked beyond this. */
export const MAX_LIVE_CREDENTIALS_PER_USER = 10

const USERNAME_LENGTH = 16
/** A login for the browser: the digest server refuses it over UDP, TCP and TLS like a wrong password. */
export const WEB_PHONE_TRANSPORTS: readonly SipTransportProtocol[] = ['ws', 'wss']

export type RevocationReason =
  | 'logout'
  | 'password_changed'
  | 'user_disabled'
  | 'user_removed'
  | 'company_suspended'
  | 'company_terminated'
  | 'superseded'

/** What the browser gets: everything sip.js needs to register, and the caller-ID choices. */
export interface WebPhoneLogin {
  username: string
  /** Returned once; only HA1 values are stored. */
  password: string
  realm: string
  aor: string
  expiresAt: string
  wsPath: string
  displayName: string
  callerIds: string[]
  defaultCallerId: string | null
  clirDefault: boolean
  echoNumber: string
  /** The company is suspended: only 110/112 go through (the B2BUA decides; the page says so). */
  emergencyOnly: boolean
  /** The user's internal extension, and whether do not disturb is on (the dock shows both). */
  extension: string | null
  doNotDisturb: boolean
}

function sessionDigest(sessionId: string): string {
  return createHash('sha256').update(`web-phone:${sessionId}`).digest('hex')
}

/**
 * The web phone's SIP logins. A login is issued to one web session, lives 12 hours and is
 * revoked, with its registrations evicted, when the session or the account ends. The digest
 * server finds it through SipDeviceService.findByUsername.
 */
export default class WebPhoneCredentialService {
  constructor(
    private readonly realm: string = configuredRealm(),
    private readonly evictor: RegistrationEvictor = new RegistrationEvictor(),
    private readonly now: () => DateTime = () => DateTime.utc()
  ) {}

  /** Issues a login for the user's browser session; the caller checked `calls.place`. */
  async issue(
    user: User,
    context: { sessionId: string; webSessionId?: number | null; ip?: string | null }
  ): Promise<WebPhoneLogin> {
    if (user.companyId === null) {
      throw new Error('The web phone belongs to customer users; staff accounts have none')
    }
    await user.load('company')
    const username = await this.#unusedUsername()
    const password = randomBytes(24).toString('base64url')
    const credential = await WebPhoneCredential.create({
      companyId: user.companyId,
      userId: user.id,
      sipUsername: username,
      realm: this.realm,
      ...sealHa1(username, this.realm, password),
      sessionDigest: sessionDigest(context.sessionId),
      issuedAddress: context.ip ? normalizeAddress(context.ip) : null,
      webSessionId: context.webSessionId ?? null,
      expiresAt: this.now().plus({ hours: WEB_PHONE_CREDENTIAL_HOURS }),
      revokedAt: null,
      lastRegisteredAt: null,
    })
    // Not in the security log: the page fetches one on every visit, and issuing it to the logged-in
    // session is no security event (failed uses and revocations are).
    await this.#revokeBeyondLimit(user)
    // The same choice the B2BUA checks X-FluffyCall-Caller-Id against.
    const numbers = await app.container.make(NumberService)
    const callerIds = await numbers.callerIdsFor(user)
    const defaultCallerId = await numbers.defaultCallerId(user)
    const line = await new InternalDirectory().settingsOf(user.id)
    return {
      username,
      password,
      realm: this.realm,
      aor: Registrar.aorFor(username, this.realm),
      expiresAt: credential.expiresAt.toUTC().toISO()!,
      wsPath: SIP_WEBSOCKET_PATH,
      displayName: user.fullName,
      callerIds,
      defaultCallerId,
      clirDefault: Boolean(user.clirDefault),
      echoNumber: ECHO_TEST_NUMBER,
      emergencyOnly: user.company.status !== 'active',
      extension: line.extension,
      doNotDisturb: line.doNotDisturb,
    }
  }

  /**
   * The credentials of a live web phone login: not revoked, not expired, its web session not
   * ended, its user not disabled, its company not terminated (a suspended company keeps 110/112,
   * so its logins still work).
   */
  async findByUsername(username: string): Promise<SipCredential | undefined> {
    const credential = await WebPhoneCredential.query()
      .join('users', 'users.id', 'web_phone_credentials.user_id')
      .join('companies', 'companies.id', 'web_phone_credentials.company_id')
      .leftJoin('web_sessions', 'web_sessions.id', 'web_phone_credentials.web_session_id')
      .where((query) =>
        query.whereNull('web_phone_credentials.web_session_id').orWhereNull('web_sessions.ended_at')
      )
      .where('web_phone_credentials.sip_username', username)
      .whereNull('web_phone_credentials.revoked_at')
      .where('web_phone_credentials.expires_at', '>', sqlTime(this.now()))
      .whereNull('users.disabled_at')
      .whereNot('companies.status', 'terminated')
      .select('web_phone_credentials.*')
      .first()
    if (!credential) return undefined
    return {
      username: credential.sipUsername,
      realm: credential.realm,
      ha1: openHa1(credential),
      subject: sipSubject({
        userId: credential.userId,
        companyId: credential.companyId,
        webPhoneCredentialId: credential.id,
      }),
      transports: WEB_PHONE_TRANSPORTS,
      knownAddresses: credential.issuedAddress ? [credential.issuedAddress] : [],
    }
  }

  async noteRegistered(credentialId: number, at: Date): Promise<void> {
    await WebPhoneCredential.query()
      .where('id', credentialId)
      .update({ last_registered_at: sqlTime(DateTime.fromJSDate(at)) })
  }

  /** Logout: the logins this browser session obtained. */
  revokeForSession(userId: number, sessionId: string): Promise<number> {
    return this.#revoke(
      (query) => query.where('user_id', userId).where('session_digest', sessionDigest(sessionId)),
      'logout'
    )
  }

  /**
   * Every login of a user (password changed, user disabled or removed). `allRegistrations` also
   * evicts the user's SIP phones, whose credentials the digest server now refuses anyway.
   */
  async revokeForUser(
    userId: number,
    reason: RevocationReason,
    options: { allRegistrations?: boolean } = {}
  ): Promise<number> {
    const revoked = await this.#revoke((query) => query.where('user_id', userId), reason)
    if (options.allRegistrations) await this.evictor.evictUser(userId)
    return revoked
  }

  /** Every login in a company (suspended or terminated); a termination also evicts its SIP phones. */
  async revokeForCompany(companyId: number, reason: RevocationReason): Promise<number> {
    const revoked = await this.#revoke((query) => query.where('company_id', companyId), reason)
    if (reason === 'company_terminated') {
      const users = await db.from('users').where('company_id', companyId).select('id')
      for (const { id } of users) await this.evictor.evictUser(id)
    }
    return revoked
  }

  /** Marks the live logins `scope` selects as revoked, evicts their registrations, audits it. */
  async #revoke(
    scope: (query: ReturnType<typeof WebPhoneCredential.query>) => void,
    reason: RevocationReason
  ): Promise<number> {
    const query = WebPhoneCredential.query().whereNull('revoked_at')
    scope(query)
    const credentials = await query
    if (credentials.length === 0) return 0
    await WebPhoneCredential.query()
      .whereIn(
        'id',
        credentials.map((credential) => credential.id)
      )
      .update({ revoked_at: sqlTime(this.now()) })
    await this.evictor.evictAors(
      credentials.map((credential) => Registrar.aorFor(credential.sipUsername, credential.realm))
    )
    const byUser = Map.groupBy(credentials, (credential) => credential.userId)
    for (const [userId, ofUser] of byUser) {
      await AuditLog.record({
        action: 'web_phone.credentials.revoked',
        companyId: ofUser[0].companyId,
        target: { type: 'user', id: userId },
        details: { reason, count: ofUser.length },
      })
    }
    return credentials.length
  }

  /** One open tab holds one login; a user who opens many tabs keeps the newest few. */
  async #revokeBeyondLimit(user: User): Promise<void> {
    const live = await WebPhoneCredential.query()
      .where('user_id', user.id)
      .whereNull('revoked_at')
      .where('expires_at', '>', sqlTime(this.now()))
      .orderBy('id', 'desc')
      .select('id')
    const surplus = live.slice(MAX_LIVE_CREDENTIALS_PER_USER).map((credential) => credential.id)
    if (surplus.length > 0) {
      await this.#revoke((query) => query.whereIn('id', surplus), 'superseded')
    }
  }

  async #unusedUsername(): Promise<string> {
    for (;;) {
      const username = randomSipUsername('wp', USERNAME_LENGTH)
      if (!(await WebPhoneCredential.findBy('sipUsername', username))) return username
    }
  }
}
