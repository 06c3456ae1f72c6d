import type { LegalBasis, PersonalDataTable } from '#core/personal_data'
import { personalDataDeclarations } from '#privacy/personal_data_registry'

export type ProcessingRole = 'processor' | 'controller'

/**
 * In whose name each declared table is processed. FluffyCall is processor (Art. 28 GDPR) for the
 * account and call data of its customers' users, and controller for its own contract, billing and
 * traffic data, security logs and fraud data. Keyed "module.table": a table two modules declare
 * (call_records: the customer's call history, and our billing traffic data) appears under both.
 * A declaration missing here fails the record's test: someone decides the role of a new table.
 */
export const ROLES: Record<string, ProcessingRole> = {
  'accounts.users': 'processor',
  'accounts.invitations': 'processor',
  'accounts.sessions': 'processor',
  'accounts.companies': 'controller',
  'accounts.audit_entries': 'controller',
  'accounts.web_sessions': 'controller',
  'calls.sip_devices': 'processor',
  'calls.web_phone_credentials': 'processor',
  'calls.users': 'processor',
  'calls.call_records': 'processor',
  'calls.active_call_legs': 'processor',
  'calls.carriers.phone_numbers': 'processor',
  'calls.carriers.default_caller_ids': 'processor',
  'calls.sip_device_addresses': 'controller',
  'calls.internal_lines': 'processor',
  // The user's forwarding rules, kept for the customer's telephony like the line settings
  'calls.call_forwardings': 'processor',
  // The company numbers' forwarding rules, set by the company's admins
  'calls.phone_number_forwardings': 'processor',
  // The owner's declaration for full numbers on the itemised bill: our own legal obligation.
  'calls.companies': 'controller',
  'billing.call_records': 'controller',
  // The company's invoice address (BT-49): our own billing.
  'billing.companies': 'controller',
  'billing.invoices': 'controller',
  'billing.invoice_documents': 'controller',
  'billing.payments.payment_methods': 'controller',
  'fraud.fraud_user_policies': 'processor',
  'fraud.fraud_call_leases': 'controller',
  'fraud.fraud_signals': 'controller',
  'fraud.fraud_review_cases': 'controller',
  'fraud.fraud_flagged_numbers': 'controller',
  'core.alerts': 'controller',
  'core.alert_events': 'controller',
  'privacy.information_requests': 'controller',
  'privacy.dpa_acceptances': 'controller',
  'privacy.processing_restrictions': 'processor',
  'privacy.data_subject_requests': 'controller',
  'privacy.data_export_archives': 'processor',
  'privacy.email_change_tokens': 'processor',
  'privacy.data_breaches': 'controller',
  // The contract's end is FluffyCall's own business with its customer
  'privacy.account_terminations': 'controller',
}

export interface ProcessingActivity {
  key: string
  module: string
  table: string
  role: ProcessingRole | null
  subject: PersonalDataTable['subject']
  dataCategories: string[]
  purpose: string
  legalBasis: LegalBasis
  retention: string
}

/**
 * The record of processing activities (Art. 30(1) for FluffyCall's own data, 30(2) for what it
 * processes on behalf of its customers), generated from the modules' personal-data declarations:
 * it cannot drift from what the code declares, and export, erasure and account end use the same.
 */
export function processingRecord() {
  const activities: ProcessingActivity[] = personalDataDeclarations.flatMap((declaration) =>
    declaration.tables.map((entry) => {
      const key = `${declaration.module}.${entry.table}`
      return {
        key,
        module: declaration.module,
        table: entry.table,
        role: ROLES[key] ?? null,
        subject: entry.subject,
        dataCategories: Object.values(entry.columns),
        purpose: entry.purpose,
        legalBasis: entry.legalBasis,
        retention: entry.retention,
      }
    })
  )
  return {
    organisation: {
      name: 'FluffyCall',
      privacyContact: 'datenschutz@fluffycall.de',
    },
    processor: activities.filter((activity) => activity.role === 'processor'),
    controller: activities.filter((activity) => activity.role === 'controller'),
    undecided: activities.filter((activity) => activity.role === null),
  }
}
