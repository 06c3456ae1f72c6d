import type { EventsList } from '@adonisjs/core/types'
import WebSessionService from '#accounts/services/web_session_service'

/**
 * Ends web sessions when an account's standing changes: a changed or reset password (every
 * browser logs in again; the changing one continues on a new session), a disabled user, a
 * terminated company. Registered in start/events.ts.
 */
export default class EndWebSessions {
  constructor(private readonly sessions: WebSessionService = new WebSessionService()) {}

  async passwordChanged({ userId }: EventsList['user:password_changed']) {
    await this.sessions.endForUser(userId, 'password_changed')
  }

  async userDisabled({ userId }: EventsList['user:disabled']) {
    await this.sessions.endForUser(userId, 'user_disabled')
  }

  async companyStatusChanged({ companyId, to }: EventsList['company:status_changed']) {
    if (to === 'terminated') await this.sessions.endForCompany(companyId, 'company_terminated')
  }
}
