import type { PersonalDataDeclaration } from '#core/personal_data'
import accounts from '#accounts/personal_data'
import billing from '#billing/personal_data'
import payments from '#billing/payments/personal_data'
import calls from '#calls/personal_data'
import carriers from '#calls/carriers/personal_data'
import privacy from '#privacy/personal_data'
import fraud from '#fraud/personal_data'
import core from '#core/alerts/personal_data'

/** Every module's personal-data declaration. A module that stores personal data adds itself here. */
export const personalDataDeclarations: PersonalDataDeclaration[] = [
  accounts,
  billing,
  payments,
  calls,
  carriers,
  fraud,
  privacy,
  core,
]

/** The retention facts other modules own that the privacy tools explain (export, erasure). */
export { CALL_RECORD_RETENTION_MONTHS } from '#calls/personal_data'
export { AUDIT_RETENTION_MONTHS } from '#accounts/personal_data'
/** Commercial retention (HGB, AO) of the billing module, which account end honours. */
export { retainedUntil } from '#billing/retention'
