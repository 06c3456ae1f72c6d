import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import User from '#accounts/models/user'
import type Company from '#accounts/models/company'
import AuditLog from '#accounts/services/audit_log'
import CallForwarding, {
  DEFAULT_FORWARD_RING_SECONDS,
  FORWARD_CONDITIONS,
  type ForwardCondition,
} from '#calls/models/call_forwarding'
import InternalLine from '#calls/models/internal_line'
import { callingCodeOf, emergencyNumberOf, toE164Digits } from '#calls/routing/dialled_number'

/** Seconds a no-answer forwarding may let a call ring first. */
export const MIN_FORWARD_RING_SECONDS = 5
export const MAX_FORWARD_RING_SECONDS = 120

/** What one condition forwards to: nothing, a colleague (user id) or an external number as typed. */
export type ForwardTargetInput =
  { kind: 'off' } | { kind: 'colleague'; userId: number } | { kind: 'external'; number: string }

export interface ForwardRuleInput {
  target: ForwardTargetInput
  /** no_answer only; null or absent: DEFAULT_FORWARD_RING_SECONDS. */
  ringSeconds?: number | null
}

/** The rules to set; a condition left out stays as it is. */
export type CallForwardingInput = Partial<Record<ForwardCondition, ForwardRuleInput>>

export type ForwardingProblemCode =
  | 'colleague_unknown'
  | 'colleague_self'
  | 'number_required'
  | 'number_invalid'
  | 'number_emergency'
  | 'number_service'
  | 'ring_seconds_range'

/** One refused input: the form field it belongs to and its message key (phone.forwarding.errors.*). */
export interface ForwardingProblem {
  field: string
  code: ForwardingProblemCode
}

/** Every refused input of an update at once; nothing was saved. */
export class CallForwardingError extends Error {
  constructor(public problems: ForwardingProblem[]) {
    super(problems.map((problem) => `${problem.field}: ${problem.code}`).join(', '))
  }

  /** The i18n key of a problem's message. */
  static messageKey(code: ForwardingProblemCode) {
    return `phone.forwarding.errors.${code}`
  }
}

/** A colleague a call may be forwarded to, as the settings page lists them. */
export interface ForwardingColleague {
  id: number
  name: string
  extension: string | null
}

/** One rule as the audit log and the JSON of the web phone show it: no names, only handles. */
export interface ForwardRuleSummary {
  to: 'colleague' | 'external'
  userId: number | null
  number: string | null
  ringSeconds: number | null
}

export interface Actor {
  actor: User
  ip: string | null
}

/** 110, 112 and what starts like them; 115, 116xxx, 118xx (as extension_rules refuses them). */
const EMERGENCY_PREFIXES = ['110', '112']
const SERVICE_PREFIXES = ['115', '116', '118']

/**
 * A user's call forwarding: always, when busy, after some seconds without answer, when no device
 * is reachable; each to an active colleague of the same company or to an external number (an
 * outbound call of the company, billed and limited like any other). Emergency and service
 * numbers are never a target. Every change is audited with before and after.
 */
export default class CallForwardingService {
  async rulesOf(userId: number): Promise<Map<ForwardCondition, CallForwarding>> {
    const rows = await CallForwarding.query().where('user_id', userId)
    return new Map(rows.map((row) => [row.condition, row]))
  }

  /** The rules as plain data (JSON for the web phone, audit details). */
  summaryOf(rules: Map<ForwardCondition, StoredRule>) {
    const summary: Partial<Record<ForwardCondition, ForwardRuleSummary>> = {}
    for (const condition of FORWARD_CONDITIONS) {
      const rule = rules.get(condition)
      if (rule) summary[condition] = summarise(rule)
    }
    return summary
  }

  /** Whom the user may forward to: active colleagues of the company (not staff, not the user). */
  async colleaguesFor(user: User): Promise<ForwardingColleague[]> {
    if (user.companyId === null) return []
    return this.membersOf(user.companyId, user.id)
  }

  /** Active members of a company a call may be forwarded to (not staff), but `except`. */
  async membersOf(companyId: number, except: number | null): Promise<ForwardingColleague[]> {
    const users = await User.query()
      .where('company_id', companyId)
      .if(except !== null, (query) => query.whereNot('id', except!))
      .whereNull('disabled_at')
      .where('is_staff', false)
      .orderBy('full_name')
    const lines = await InternalLine.query().whereIn(
      'user_id',
      users.map((colleague) => colleague.id)
    )
    const extensions = new Map(lines.map((line) => [line.userId, line.extension]))
    return users.map((colleague) => ({
      id: colleague.id,
      name: colleague.fullName,
      extension: extensions.get(colleague.id) ?? null,
    }))
  }

  /**
   * Sets or clears the given rules in one transaction. Every input is checked first; refused
   * ones throw CallForwardingError (all problems at once) and nothing changes.
   */
  async update(
    user: User,
    company: Company,
    input: CallForwardingInput,
    actor: Actor
  ): Promise<Map<ForwardCondition, CallForwarding>> {
    if (user.companyId !== company.id)
      throw new CallForwardingError([{ field: 'user', code: 'colleague_unknown' }])
    return saveForwardRules({
      company,
      input,
      self: user.id,
      load: (trx) => this.#rulesIn(user.id, trx),
      row: () => new CallForwarding().merge({ userId: user.id, companyId: company.id }),
      audit: { action: 'calls.forwarding.updated', target: { type: 'user', id: user.id } },
      by: actor,
    })
  }

  async #rulesIn(userId: number, trx: TransactionClientContract) {
    const rows = await CallForwarding.query({ client: trx }).where('user_id', userId)
    return new Map(rows.map((row) => [row.condition, row]))
  }
}

/**
 * One rule as typed, checked the same for a user's and for a company number's forwarding: the
 * ring seconds of no_answer, a colleague (active, of the company, not staff, not `self`), or an
 * external number (forwardNumberOf). Null rule: the condition is turned off.
 */
export async function checkForwardRule(
  company: Company,
  condition: ForwardCondition,
  input: ForwardRuleInput,
  self: number | null
): Promise<{ rule: ForwardRuleSummary | null } | { problem: ForwardingProblem }> {
  const target = input.target
  if (target.kind === 'off') return { rule: null }

  let ringSeconds: number | null = null
  if (condition === 'no_answer') {
    ringSeconds = input.ringSeconds ?? DEFAULT_FORWARD_RING_SECONDS
    if (
      !Number.isInteger(ringSeconds) ||
      ringSeconds < MIN_FORWARD_RING_SECONDS ||
      ringSeconds > MAX_FORWARD_RING_SECONDS
    )
      return { problem: { field: `${condition}_ring_seconds`, code: 'ring_seconds_range' } }
  }

  if (target.kind === 'colleague') {
    const field = `${condition}_target`
    if (target.userId === self) return { problem: { field, code: 'colleague_self' } }
    const colleague = await User.query()
      .where('id', target.userId)
      .where('company_id', company.id)
      .where('is_staff', false)
      .whereNull('disabled_at')
      .first()
    if (!colleague) return { problem: { field, code: 'colleague_unknown' } }
    return { rule: { to: 'colleague', userId: colleague.id, number: null, ringSeconds } }
  }

  const field = `${condition}_number`
  const result = forwardNumberOf(target.number, company.country)
  if ('problem' in result) return { problem: { field, code: result.problem } }
  return { rule: { to: 'external', userId: null, number: result.number, ringSeconds } }
}

/**
 * An external forwarding target as typed, normalised to "+digits" with the company's country;
 * emergency numbers (110, 112) and service codes (115, 116xxx, 118xx) are refused, also behind
 * the country code ("+49 116116"), since a forwarded call must never end up there.
 */
export function forwardNumberOf(
  typed: string,
  country: string
): { number: string } | { problem: ForwardingProblemCode } {
  const trimmed = typed.trim()
  const compact = trimmed.replace(/[\s\-/().]/g, '')
  if (!compact) return { problem: 'number_required' }
  if (emergencyNumberOf(trimmed) || startsWithAny(compact, EMERGENCY_PREFIXES))
    return { problem: 'number_emergency' }
  if (startsWithAny(compact, SERVICE_PREFIXES)) return { problem: 'number_service' }
  // Behind the own country code ("+49 112", "0116 116"), checked before the length of a number.
  const code = callingCodeOf(country)
  const international =
    /^(?:\+|00)(\d+)$/.exec(compact)?.[1] ??
    (code && /^0\d+$/.test(compact) ? code + compact.slice(1) : null)
  if (code && international?.startsWith(code)) {
    const national = international.slice(code.length)
    if (startsWithAny(national, EMERGENCY_PREFIXES)) return { problem: 'number_emergency' }
    if (startsWithAny(national, SERVICE_PREFIXES)) return { problem: 'number_service' }
  }
  const digits = toE164Digits(trimmed, country)
  if (!digits) return { problem: 'number_invalid' }
  return { number: `+${digits}` }
}

function startsWithAny(text: string, prefixes: string[]) {
  return prefixes.some((prefix) => text.startsWith(prefix))
}

/** The columns a user's and a number's rules share. */
interface StoredRule {
  targetUserId: number | null
  targetNumber: string | null
  ringSeconds: number | null
}

/** A stored rule row (CallForwarding, PhoneNumberForwarding) as saveForwardRules handles it. */
interface RuleRow extends StoredRule {
  condition: ForwardCondition
  useTransaction(trx: TransactionClientContract): unknown
  merge(values: Partial<StoredRule> & { condition?: ForwardCondition }): unknown
  save(): Promise<unknown>
  delete(): Promise<unknown>
}

/**
 * Sets or clears rules of a user or of a number: every input is checked first (refused ones throw
 * CallForwardingError with all problems at once, and nothing changes); then in one transaction
 * the rows change (an unchanged rule is left as it is) and what changed is audited with before
 * and after.
 */
export async function saveForwardRules<Row extends RuleRow>(options: {
  company: Company
  input: CallForwardingInput
  /** The user the rules belong to (never their own target); null for a number. */
  self: number | null
  load(trx: TransactionClientContract): Promise<Map<ForwardCondition, Row>>
  /** A new row, owner columns set. */
  row(): Row
  /** Stamps a row about to be saved (who set a number's rule). */
  stamp?(row: Row): void
  audit: { action: string; target: { type: string; id: number | string } }
  by: Actor
}): Promise<Map<ForwardCondition, Row>> {
  const { company, input, by } = options
  const wanted = new Map<ForwardCondition, ForwardRuleSummary | null>()
  const problems: ForwardingProblem[] = []
  for (const condition of FORWARD_CONDITIONS) {
    const rule = input[condition]
    if (!rule) continue
    const checked = await checkForwardRule(company, condition, rule, options.self)
    if ('problem' in checked) problems.push(checked.problem)
    else wanted.set(condition, checked.rule)
  }
  if (problems.length) throw new CallForwardingError(problems)

  return db.transaction(async (trx) => {
    const rules = await options.load(trx)
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
      const rule = existing ?? options.row()
      rule.useTransaction(trx)
      rule.merge({
        condition,
        targetUserId: target.userId,
        targetNumber: target.number,
        ringSeconds: target.ringSeconds,
      })
      options.stamp?.(rule)
      await rule.save()
      rules.set(condition, rule)
    }
    const after = auditSummary(rules)
    if (JSON.stringify(before) !== JSON.stringify(after))
      await AuditLog.record(
        {
          ...options.audit,
          actor: by.actor,
          companyId: company.id,
          details: { before, after },
          ip: by.ip,
        },
        { client: trx }
      )
    return rules
  })
}

/** Per condition one short line for the audit log: "user 12" or "+49301234567", with "20 s" for no_answer. */
export function auditSummary(rules: Map<ForwardCondition, StoredRule>) {
  const summary: Partial<Record<ForwardCondition, string>> = {}
  for (const condition of FORWARD_CONDITIONS) {
    const rule = rules.get(condition)
    if (!rule) continue
    const to = rule.targetUserId !== null ? `user ${rule.targetUserId}` : rule.targetNumber!
    summary[condition] = rule.ringSeconds !== null ? `${to}, ${rule.ringSeconds} s` : to
  }
  return summary
}

function summarise(rule: StoredRule): ForwardRuleSummary {
  return {
    to: rule.targetUserId !== null ? 'colleague' : 'external',
    userId: rule.targetUserId,
    number: rule.targetNumber,
    ringSeconds: rule.ringSeconds,
  }
}
