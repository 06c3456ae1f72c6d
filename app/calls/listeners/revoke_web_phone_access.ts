import type { EventsList } from '@adonisjs/core/types'
import WebPhoneCredentialService from '#calls/services/web_phone_credential_service'

/**
 * Ends web phone logins (and closes their SIP WebSockets) when accounts reports that a session
 * or an account ended. Registered in start/events.ts.
 */
export default class RevokeWebPhoneAccess {
  constructor(
    private readonly credentials: WebPhoneCredentialService = new WebPhoneCredentialService()
  ) {}

  async loggedOut({ userId, sessionId }: EventsList['user:logged_out']) {
    await this.credentials.revokeForSession(userId, sessionId)
  }

  /** A changed password may mean a stolen one: every browser of the user logs in again. */
  async passwordChanged({ userId }: EventsList['user:password_changed']) {
    await this.credentials.revokeForUser(userId, 'password_changed')
  }

  async userDisabled({ userId }: EventsList['user:disabled']) {
    await this.credentials.revokeForUser(userId, 'user_disabled', { allRegistrations: true })
  }

  async userRemoved({ userId }: EventsList['user:removed']) {
    await this.credentials.revokeForUser(userId, 'user_removed', { allRegistrations: true })
  }

  /**
   * Suspension ends the logins; the page then gets a new one that the B2BUA lets through to 110
   * and 112 only. Termination ends every registration of the company.
   */
  async companyStatusChanged({ companyId, to }: EventsList['company:status_changed']) {
    if (to === 'suspended') await this.credentials.revokeForCompany(companyId, 'company_suspended')
    if (to === 'terminated')
      await this.credentials.revokeForCompany(companyId, 'company_terminated')
  }
}
