import type { CallAttempt, CallGate, GateDecision } from '#calls/gates/call_gate'

/** Only active companies phone out; suspended and terminated ones keep 110/112 only. */
export default class CompanyActiveGate implements CallGate {
  readonly name = 'company_active'

  async check({ company }: CallAttempt): Promise<GateDecision> {
    if (company.status === 'active') return { allow: true }
    return {
      allow: false,
      reason: `company_${company.status}`,
      status: 403,
      phrase: 'Account not active',
    }
  }
}
