/** Every module's Bouncer policies, lazily imported (as @adonisjs/bouncer expects). */
export const policies = {
  CompanyPolicy: () => import('#accounts/policies/company_policy'),
  RolePolicy: () => import('#accounts/policies/role_policy'),
  AuditPolicy: () => import('#accounts/policies/audit_policy'),
  StaffPolicy: () => import('#accounts/policies/staff_policy'),
  CarrierPolicy: () => import('#calls/policies/carrier_policy'),
  LiveCallPolicy: () => import('#calls/policies/live_call_policy'),
  NumberPolicy: () => import('#calls/policies/number_policy'),
  FraudPolicy: () => import('#fraud/policies/fraud_policy'),
  BillingPolicy: () => import('#billing/policies/billing_policy'),
  InvoicePolicy: () => import('#billing/policies/invoice_policy'),
  InformationRequestPolicy: () => import('#privacy/policies/information_request_policy'),
  DataBreachPolicy: () => import('#privacy/policies/data_breach_policy'),
  CallRecordHoldPolicy: () => import('#privacy/policies/call_record_hold_policy'),
}
