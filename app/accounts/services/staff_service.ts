import { randomBytes } from 'node:crypto'
import { inject } from '@adonisjs/core'
import { DateTime } from 'luxon'
import mail from '@adonisjs/mail/services/main'
import emitter from '@adonisjs/core/services/emitter'
import User from '#accounts/models/user'
import RoleService from '#accounts/services/role_service'
import PasswordService from '#accounts/services/password_service'
import AuditLog from '#accounts/services/audit_log'
import type { StaffRoleName } from '#accounts/permissions'

export const STAFF_WELCOME_DAYS = 3

export class StaffError extends Error {
  constructor(public code: 'already_user' | 'own_account') {
    super(code)
  }
}

/** Our employees' accounts: created by a superadmin, who never learns their password. */
@inject()
export default class StaffService {
  constructor(
    protected passwords: PasswordService,
    protected roles: RoleService
  ) {}

  async create(email: string, fullName: string, roleName: StaffRoleName, actor: User, ip: string) {
    if (await User.findBy('email', email)) throw new StaffError('already_user')
    const role = await RoleService.findByName(roleName)
    const user = await User.create({
      companyId: null,
      roleId: role.id,
      isStaff: true,
      fullName,
      email,
      // Unusable until the new colleague chooses a password through the emailed link.
      password: randomBytes(32).toString('base64url'),
      locale: 'de',
    })
    const link = await this.passwords.issueLink(user, { days: STAFF_WELCOME_DAYS })
    await mail.send((message) => {
      message
        .to(email)
        .subject('Ihr FluffyCall-Mitarbeiterzugang / Your FluffyCall staff account')
        .htmlView('emails/staff_welcome', { user, link, days: STAFF_WELCOME_DAYS })
    })
    await AuditLog.record({
      action: 'staff.created',
      actor,
      companyId: null,
      target: { type: 'user', id: user.id },
      details: { email, role: roleName },
      ip,
    })
    return user
  }

  async changeRole(member: User, roleName: StaffRoleName, actor: User, ip: string) {
    if (member.id === actor.id) throw new StaffError('own_account')
    await this.roles.assign(member, roleName, actor, ip)
  }

  async setDisabled(member: User, disabled: boolean, actor: User, ip: string) {
    if (member.id === actor.id) throw new StaffError('own_account')
    member.disabledAt = disabled ? DateTime.utc() : null
    await member.save()
    await AuditLog.record({
      action: disabled ? 'user.disabled' : 'user.enabled',
      actor,
      companyId: null,
      target: { type: 'user', id: member.id },
      ip,
    })
    if (disabled) await emitter.emit('user:disabled', { userId: member.id })
  }
}
