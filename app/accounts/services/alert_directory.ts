import Company from '#accounts/models/company'
import User from '#accounts/models/user'
import type { AlertDirectory, AlertRecipient } from '#core/alerts/types'

/** Who hears of alerts, for the alert channel in core (which knows no users). */
export default class AccountsAlertDirectory implements AlertDirectory {
  async staff(): Promise<AlertRecipient[]> {
    const users = await User.query()
      .where('is_staff', true)
      .whereNull('disabled_at')
      .where('awaiting_confirmation', false)
      .whereHas('role', (role) =>
        role.whereHas('permissions', (permission) => permission.where('name', 'alerts.view'))
      )
    return users.map((user) => ({ email: user.email, locale: user.locale }))
  }

  async companyAdmins(companyId: number): Promise<AlertRecipient[]> {
    const users = await User.query()
      .where('company_id', companyId)
      .whereNull('disabled_at')
      .where('awaiting_confirmation', false)
      .whereHas('role', (role) => role.whereIn('name', ['owner', 'admin']))
    return users.map((user) => ({ email: user.email, locale: user.locale }))
  }

  async companyNames(companyIds: number[]) {
    if (!companyIds.length) return new Map<number, string>()
    const companies = await Company.query()
      .whereIn('id', [...new Set(companyIds)])
      .select('id', 'legal_name')
    return new Map(companies.map((company) => [company.id, company.legalName]))
  }
}
