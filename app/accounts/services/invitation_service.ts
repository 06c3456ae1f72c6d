import { DateTime } from 'luxon'
import mail from '@adonisjs/mail/services/main'
import db from '@adonisjs/lucid/services/db'
import Company from '#accounts/models/company'
import Invitation from '#accounts/models/invitation'
import User from '#accounts/models/user'
import RoleService from '#accounts/services/role_service'
import AuditLog from '#accounts/services/audit_log'
import { hashSecretToken, newSecretToken } from '#core/secret_token'
import { appUrl } from '#config/app'

export const INVITATION_DAYS = 7

export class InvitationError extends Error {
  constructor(public code: 'already_user' | 'invalid_link') {
    super(code)
  }
}

export default class InvitationService {
  async invite(company: Company, email: string, roleName: 'admin' | 'member', inviter: User, ip: string) {
    if (await User.findBy('email', email)) throw new InvitationError('already_user')
    const role = await RoleService.findByName(roleName)
    const { token, hash } = newSecretToken()
    const invitation = await Invitation.create({
      companyId: company.id,
      roleId: role.id,
      invitedById: inviter.id,
      email,
      tokenHash: hash,
      expiresAt: DateTime.utc().plus({ days: INVITATION_DAYS }),
    })
    const link = `${appUrl}/invitations/${token}`
    await mail.send((message) => {
      message
        .to(email)
        .subject(`Einladung zu FluffyCall / Invitation to FluffyCall: ${company.legalName}`)
        .htmlView('emails/invitation', { company, inviter, link, days: INVITATION_DAYS })
    })
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
