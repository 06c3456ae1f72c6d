import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type Company from '#accounts/models/company'
import Invitation from '#accounts/models/invitation'
import User from '#accounts/models/user'
import RoleService from '#accounts/services/role_service'
import AuditLog from '#accounts/services/audit_log'
import { hashSecretToken, newSecretToken } from '#core/secret_token'
import { appUrl } from '#config/app'
import counters from '#core/services/counters'
import queue from '#core/services/queue'
import { keyPart, withinLimits } from '#core/rate_limit'
import InvitationMailJob from '#accounts/jobs/invitation_mail_job'

export const INVITATION_DAYS = 7
/** Invitations a day: per company, and per invited address (whichever company invites). */
export const INVITES_MAX_PER_COMPANY = 20
export const INVITES_MAX_PER_ADDRESS = 3
const DAY = 24 * 60 * 60

/** The counter keys of the invitation limits. */
export const invitationLimitKeys = {
  company: (companyId: number) => `invitations:company:${companyId}`,
  address: (email: string) => `invitations:address:${keyPart(email)}`,
}

export class InvitationError extends Error {
  constructor(public code: 'already_user' | 'invalid_link' | 'company_pending' | 'too_many') {
    super(code)
  }
}

export default class InvitationService {
  /**
   * Records the invitation and hands the mail to the job queue. The answer is the same whether or
   * not the address already has an account (of this or another company): the job decides what
   * to mail. Only active companies invite (sign-up alone must not be a way to send mail), within
   * daily limits per company and per address.
   */
  async invite(
    company: Company,
    email: string,
    roleName: 'admin' | 'member',
    inviter: User,
    ip: string
  ) {
    if (company.status !== 'active') throw new InvitationError('company_pending')
    const allowed = await withinLimits(counters, [
      {
        key: invitationLimitKeys.company(company.id),
        max: INVITES_MAX_PER_COMPANY,
        windowSeconds: DAY,
      },
      { key: invitationLimitKeys.address(email), max: INVITES_MAX_PER_ADDRESS, windowSeconds: DAY },
    ])
    if (!allowed) throw new InvitationError('too_many')
    const role = await RoleService.findByName(roleName)
    // The link's token is made by the mail job, so it never sits in the queue; until then nobody knows one.
    const invitation = await Invitation.create({
      companyId: company.id,
      roleId: role.id,
      invitedById: inviter.id,
      email,
      tokenHash: newSecretToken().hash,
      expiresAt: DateTime.utc().plus({ days: INVITATION_DAYS }),
    })
    await queue.dispatch(new InvitationMailJob(), { invitationId: invitation.id })
    await AuditLog.record({
      action: 'invitation.sent',
      actor: inviter,
      companyId: company.id,
      target: { type: 'invitation', id: invitation.id },
      details: { email, role: roleName },
      ip,
    })
    return invitation
  }

  /** A new link for an invitation: its token replaces the stored hash (run by the mail job). */
  async issueLink(invitation: Invitation) {
    const { token, hash } = newSecretToken()
    invitation.tokenHash = hash
    await invitation.save()
    return `${appUrl}/invitations/${token}`
  }

  async findUsable(token: string) {
    const invitation = await Invitation.query()
      .where('token_hash', hashSecretToken(token))
      .preload('company')
      .preload('role')
      .first()
    return invitation?.isUsable ? invitation : null
  }

  async accept(token: string, fullName: string, password: string, ip: string) {
    const invitation = await this.findUsable(token)
    if (!invitation) throw new InvitationError('invalid_link')
    if (await User.findBy('email', invitation.email)) throw new InvitationError('already_user')
    const user = await db.transaction(async (trx) => {
      const created = await User.create(
        {
          companyId: invitation.companyId,
          roleId: invitation.roleId,
          isStaff: false,
          fullName,
          email: invitation.email,
          password,
          locale: 'de',
        },
        { client: trx }
      )
      invitation.useTransaction(trx)
      invitation.acceptedAt = DateTime.utc()
      await invitation.save()
      return created
    })
    await AuditLog.record({
      action: 'invitation.accepted',
      actor: user,
      target: { type: 'invitation', id: invitation.id },
      ip,
    })
    return user
  }

  async revoke(invitation: Invitation, actor: User, ip: string) {
    invitation.revokedAt = DateTime.utc()
    await invitation.save()
    await AuditLog.record({
      action: 'invitation.revoked',
      actor,
      companyId: invitation.companyId,
      target: { type: 'invitation', id: invitation.id },
      ip,
    })
  }
}
