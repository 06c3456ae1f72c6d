import { inject } from '@adonisjs/core'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import type Company from '#accounts/models/company'
import { FORWARD_CONDITIONS, type ForwardCondition } from '#calls/models/call_forwarding'
import PhoneNumber from '#calls/models/phone_number'
import PhoneNumberForwarding from '#calls/models/phone_number_forwarding'
import CallForwardingService, {
  CallForwardingError,
  saveForwardRules,
  type Actor,
  type CallForwardingInput,
} from '#calls/internal/call_forwarding_service'

/** One rule as the numbers page lists it. */
export interface NumberRuleSummary {
  condition: ForwardCondition
  colleague: string | null
  number: string | null
  ringSeconds: number | null
}

/**
 * Call forwarding of a company number, set by the company's admins: the same conditions and
 * targets as a user's own forwarding (checked by the same rules: checkForwardRule), applied by
 * the B2BUA around the users the number rings. Every change is audited with before and after.
 */
@inject()
export default class NumberForwardingService {
  constructor(protected forwarding: CallForwardingService) {}

  /**
   * The numbers page: per number id its rules in condition order, each with the colleague's name
   * or the external number.
   */
  async summariesOf(company: Company): Promise<Record<number, NumberRuleSummary[]>> {
    const rows = await PhoneNumberForwarding.query().where('company_id', company.id)
    const colleagues = new Map(
      (await this.colleaguesOf(company)).map((colleague) => [colleague.id, colleague.name])
    )
    const summaries: Record<number, NumberRuleSummary[]> = {}
    for (const condition of FORWARD_CONDITIONS) {
      for (const row of rows.filter((candidate) => candidate.condition === condition)) {
        const list = (summaries[row.phoneNumberId] ??= [])
        list.push({
          condition,
          colleague: row.targetUserId !== null ? (colleagues.get(row.targetUserId) ?? '') : null,
          number: row.targetNumber,
          ringSeconds: row.ringSeconds,
        })
      }
    }
    return summaries
  }

  /** One of the company's numbers; another company's number is not found (404). */
  numberOf(company: Company, numberId: number) {
    return PhoneNumber.query().where('id', numberId).where('company_id', company.id).firstOrFail()
  }

  async rulesOf(numberId: number): Promise<Map<ForwardCondition, PhoneNumberForwarding>> {
    const rows = await PhoneNumberForwarding.query().where('phone_number_id', numberId)
    return new Map(rows.map((row) => [row.condition, row]))
  }

  /** Whom the number may forward to: every active member of the company. */
  colleaguesOf(company: Company) {
    return this.forwarding.membersOf(company.id, null)
  }

  /**
   * Sets or clears the given rules of one of the company's numbers in one transaction. Refused
   * inputs throw CallForwardingError (all problems at once) and nothing changes.
   */
  async update(
    company: Company,
    number: PhoneNumber,
    input: CallForwardingInput,
    actor: Actor
  ): Promise<Map<ForwardCondition, PhoneNumberForwarding>> {
    if (number.companyId !== company.id)
      throw new CallForwardingError([{ field: 'number', code: 'number_invalid' }])
    return saveForwardRules({
      company,
      input,
      self: null,
      load: (trx) => this.#rulesIn(number.id, trx),
      row: () =>
        new PhoneNumberForwarding().merge({ phoneNumberId: number.id, companyId: company.id }),
      // The admin who last set a rule places its external calls for a shared number (b2bua.ts).
      stamp: (row) => (row.setByUserId = actor.actor.id),
      audit: {
        action: 'calls.number_forwarding.updated',
        target: { type: 'phone_number', id: number.number },
      },
      by: actor,
    })
  }

  async #rulesIn(numberId: number, trx: TransactionClientContract) {
    const rows = await PhoneNumberForwarding.query({ client: trx }).where(
      'phone_number_id',
      numberId
    )
    return new Map(rows.map((row) => [row.condition, row]))
  }
}
