import type User from '#accounts/models/user'
import type Company from '#accounts/models/company'
import type { ItemisedNumbers } from '#accounts/models/company'
import { DateTime } from 'luxon'
import AuditLog from '#accounts/services/audit_log'

/** Why a choice of full numbers was refused (TDDDG § 11(1)). */
export class FullNumbersDeclarationError extends Error {
  constructor(public code: 'declaration_missing' | 'owners_only') {
    super(`full itemised numbers refused: ${code}`)
  }
}

/** The owner's declaration for full numbers: the words shown and whether they were confirmed. */
export interface FullNumbersDeclaration {
  confirmed: boolean
  text: string
}

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

  /**
   * A new choice of `full` needs an owner's confirmed declaration (TDDDG § 11(1)), stored with who
   * and when and audited with its words; keeping `full` keeps the declaration, leaving it clears it.
   */
  async updateCompany(
    company: Company,
    itemised: ItemisedNumbers,
    actor: User,
    ip: string | null,
    declaration: FullNumbersDeclaration | null = null,
    isOwner = false
  ): Promise<void> {
    const before = company.itemisedNumbers
    const declares = itemised === 'full' && !(before === 'full' && company.fullNumbersDeclaredAt)
    if (declares) {
      if (!declaration?.confirmed || !declaration.text.trim())
        throw new FullNumbersDeclarationError('declaration_missing')
      if (!isOwner) throw new FullNumbersDeclarationError('owners_only')
      company.merge({
        fullNumbersDeclaredBy: actor.id,
        fullNumbersDeclaredAt: DateTime.utc(),
        fullNumbersDeclaration: declaration.text,
      })
    } else if (itemised !== 'full') {
      company.merge({
        fullNumbersDeclaredBy: null,
        fullNumbersDeclaredAt: null,
        fullNumbersDeclaration: null,
      })
    }
    company.itemisedNumbers = itemised
    await company.save()
    await AuditLog.record({
      action: 'company.itemised_numbers.changed',
      actor,
      companyId: company.id,
      target: { type: 'company', id: company.id },
      details: declares
        ? { from: before, to: itemised, declaration: declaration!.text }
        : { from: before, to: itemised },
      ip,
    })
  }
}
