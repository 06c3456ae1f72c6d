import type Company from '#accounts/models/company'
import type DpaService from '#privacy/dpa/dpa_service'

/**
 * What this gate reads of a call attempt and answers. It fills the CallGate seam of calls
 * (app/calls/gates/call_gate.ts) structurally: privacy imports nothing from calls; the provider
 * registers it, and the compiler checks the fit there.
 */
interface Attempt {
  company: Pick<Company, 'id' | 'createdAt'>
}
type Decision = { allow: true } | { allow: false; reason: string; status: number; phrase: string }

/** The reason phrase of the refusal; the web phone recognises it (resources/js/phone/outcome_reason.ts). */
export const DPA_REFUSAL_PHRASE = 'Data processing agreement not accepted'

/**
 * No calls before the company's owner has accepted the DPA (Art. 28(3) GDPR: processing on the
 * basis of a contract), outbound and inbound; a company within a new version's grace period calls
 * on. 110 and 112 never reach a gate (the B2BUA decides them first).
 */
export default class DpaGate {
  readonly name = 'dpa'

  constructor(protected dpa: DpaService) {}

  async check({ company }: Attempt): Promise<Decision> {
    return this.#decide(company)
  }

  async checkInbound({ company }: Attempt): Promise<Decision> {
    return this.#decide(company)
  }

  async #decide(company: Attempt['company']): Promise<Decision> {
    if (await this.dpa.callsAllowed(company)) return { allow: true }
    return { allow: false, reason: 'dpa_not_accepted', status: 403, phrase: DPA_REFUSAL_PHRASE }
  }
}
