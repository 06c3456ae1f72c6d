import type User from '#accounts/models/user'
import type Company from '#accounts/models/company'
import type { ItemisedNumbers } from '#accounts/models/company'
import AuditLog from '#accounts/services/audit_log'

export interface UserPhoneSettings {
  clirDefault: boolean
  rejectAnonymous: boolean
}

/**
 * The phone settings the B2BUA reads: per user CLIR by default and refusing anonymous callers,
 * per company full or shortened destination numbers. Changes are audited (they change what
 * callers and bills show).
 */
export default class PhoneSettingsService {
  async updateUser(user: User, settings: UserPhoneSettings, ip: string | null): Promise<void> {
    const before = {
      clirDefault: Boolean(user.clirDefault),
      rejectAnonymous: Boolean(user.rejectAnonymous),
    }
    user.merge(settings)
    await user.save()
    await AuditLog.record({
      action: 'phone.settings.changed',
      actor: user,
      target: { type: 'user', id: user.id },
      details: { before, after: settings },
      ip,
    })
  }

  async updateCompany(
    company: Company,
    itemised: ItemisedNumbers,
    actor: User,
    ip: string | null
  ): Promise<void> {
    const before = company.itemisedNumbers
    company.itemisedNumbers = itemised
    await company.save()
    await AuditLog.record({
      action: 'company.itemised_numbers.changed',
      actor,
      companyId: company.id,
      target: { type: 'company', id: company.id },
      details: { from: before, to: itemised },
      ip,
    })
  }
}
