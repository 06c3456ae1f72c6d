import PaymentStatusService from '#billing/payments/services/payment_status_service'

/**
 * The call gate of payments (the shape of calls' CallGate, which billing may not import;
 * providers/payments_provider.ts registers it). Refuses outbound calls of a company suspended for
 * late payment. Emergency calls (110/112) are decided by the B2BUA before any gate runs (§ 164 TKG).
 */
export default class PaymentGate {
  readonly name = 'payment_overdue'

  constructor(
    private isSuspended: (companyId: number) => Promise<boolean> = PaymentStatusService.isSuspended
  ) {}

  async check(attempt: { company: { id: number } }) {
    if (!(await this.isSuspended(attempt.company.id))) return { allow: true as const }
    return {
      allow: false as const,
      reason: 'payment_overdue',
      status: 403,
      phrase: 'Payment overdue: outbound calls suspended',
    }
  }
}
