import { inject } from '@adonisjs/core'
import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import type User from '#accounts/models/user'
import type Company from '#accounts/models/company'
import AuditLog from '#accounts/services/audit_log'
import { FORWARD_CONDITIONS, type ForwardCondition } from '#calls/models/call_forwarding'
import PhoneNumber from '#calls/models/phone_number'
import PhoneNumberForwarding from '#calls/models/phone_number_forwarding'
import CallForwardingService, {
  CallForwardingError,
  auditSummary,
  checkForwardRule,
  type CallForwardingInput,
  type ForwardRuleSummary,
  type ForwardingProblem,
} from '#calls/internal/call_forwarding_service'

/** One rule as the numbers page lists it. */
export interface NumberRuleSummary {
  condition: ForwardCondition
  colleague: string | null
  number: string | null
  ringSeconds: number | null
}

interface Actor {
  actor: User
  ip: string | null
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
    { actor, ip }: Actor
  ): Promise<Map<ForwardCondition, PhoneNumberForwarding>> {
    if (number.companyId !== company.id)
      throw new CallForwardingError([{ field: 'number', code: 'number_invalid' }])
    const wanted = new Map<ForwardCondition, ForwardRuleSummary | null>()
    const problems: ForwardingProblem[] = []
    for (const condition of FORWARD_CONDITIONS) {
      const rule = input[condition]
      if (!rule) continue
      const checked = await checkForwardRule(company, condition, rule, null)
      if ('problem' in checked) problems.push(checked.problem)
      else wanted.set(condition, checked.rule)
    }
    if (problems.length) throw new CallForwardingError(problems)

    return db.transaction(async (trx) => {
      const rules = await this.#rulesIn(number.id, trx)
      const before = auditSummary(rules)
      for (const [condition, target] of wanted) {
        const existing = rules.get(condition)
        if (!target) {
          if (existing) {
            existing.useTransaction(trx)
            await existing.delete()
            rules.delete(condition)
          }
          continue
        }
        const unchanged =
          existing &&
          existing.targetUserId === target.userId &&
          existing.targetNumber === target.number &&
          existing.ringSeconds === target.ringSeconds
        if (unchanged) continue
        const rule = existing ?? new PhoneNumberForwarding()
        rule.useTransaction(trx)
        rule.merge({
          phoneNumberId: number.id,
          companyId: company.id,
          condition,
          targetUserId: target.userId,
          targetNumber: target.number,
          ringSeconds: target.ringSeconds,
          setByUserId: actor.id,
        })
        await rule.save()
        rules.set(condition, rule)
      }
      const after = auditSummary(rules)
      if (JSON.stringify(before) !== JSON.stringify(after))
        await AuditLog.record(
          {
            action: 'calls.number_forwarding.updated',
            actor,
            companyId: company.id,
            target: { type: 'phone_number', id: number.number },
            details: { before, after },
            ip,
          },
          { client: trx }
        )
      return rules
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
