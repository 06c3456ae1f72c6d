import type { CompanyStatus } from '#accounts/models/company'

/**
 * What accounts tells the other modules (they listen; accounts imports none of them). `calls`
 * revokes web phone logins and closes their SIP connections on these.
 */
declare module '@adonisjs/core/types' {
  interface EventsList {
    /** `sessionId`: the web session that ended (its web phone logins end with it). */
    'user:logged_out': { userId: number; sessionId: string }
    'user:password_changed': { userId: number }
    'user:disabled': { userId: number }
    'user:removed': { userId: number; companyId: number | null }
    'company:status_changed': { companyId: number; from: CompanyStatus; to: CompanyStatus }
    /** Account end (privacy): the terminated company's personal data is deleted; its numbers go back. */
    'company:account_ended': { companyId: number; at: string }
  }
}
