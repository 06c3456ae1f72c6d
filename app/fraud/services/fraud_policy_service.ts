import { inject } from '@adonisjs/core'
import app from '@adonisjs/core/services/app'
import db from '@adonisjs/lucid/services/db'
import type Company from '#accounts/models/company'
import type User from '#accounts/models/user'
import AuditLog from '#accounts/services/audit_log'
import type { FraudLimits } from '#config/fraud'
import FraudCompanyPolicy, {
  type FraudLimitOverrides,
  type OutboundSuspension,
} from '#fraud/models/fraud_company_policy'
import FraudRiskPrefix from '#fraud/models/fraud_risk_prefix'
import { RISK_CLASSES } from '#fraud/services/number_risk'

export const LIMIT_SUBJECTS = ['company', 'user', 'device'] as const
export const LIMIT_FIELDS = ['concurrent', 'perMinute', 'perHour', 'perDay'] as const

export interface CompanyPolicyInput {
  allowedCountries: string[]
  enabledRiskClasses: string[]
  outboundSuspension: OutboundSuspension
  limits: FraudLimitOverrides
}

interface Actor {
  actor: User
  ip: string
}

/** A CSV line that cannot be imported: its number (1-based) and why. */
export class PrefixImportError extends Error {
  constructor(
    readonly line: number,
    readonly code: 'columns' | 'prefix' | 'risk_class' | 'label' | 'duplicate' | 'empty'
  ) {
    super(`line ${line}: ${code}`)
  }
}

const CSV_HEADER = 'prefix,risk_class,label'

/**
 * Staff edit a company's fraud policy and the risk prefix table; every change is audited and
 * reaches this node's gate at once (others within `policyCacheSeconds`).
 */
@inject()
export default class FraudPolicyService {
  async forCompany(company: Company) {
    const row = await FraudCompanyPolicy.findBy('companyId', company.id)
    const policies = await app.container.make('fraud.policies')
    return { row, effective: policies.effective(company, row) }
  }

  async update(company: Company, input: CompanyPolicyInput, { actor, ip }: Actor) {
    const row =
      (await FraudCompanyPolicy.findBy('companyId', company.id)) ?? new FraudCompanyPolicy()
    const before = row.$isPersisted ? describe(row) : null
    row.merge({ companyId: company.id, ...input })
    await row.save()
    ;(await app.container.make('fraud.policies')).forgetCompany(company.id)
    await AuditLog.record({
      action: 'fraud.policy.changed',
      actor,
      companyId: company.id,
      target: { type: 'company', id: company.id },
      details: { before: before ?? 'defaults', after: describe(row) },
      ip,
    })
    return row
  }

  /** The company's time zone: its daily limits reset and its baselines count hours there. */
  async setTimeZone(company: Company, timeZone: string, { actor, ip }: Actor) {
    const before = company.timeZone ?? null
    company.timeZone = timeZone
    await company.save()
    ;(await app.container.make('fraud.policies')).forgetCompany(company.id)
    await AuditLog.record({
      action: 'company.time_zone.changed',
      actor,
      companyId: company.id,
      target: { type: 'company', id: company.id },
      details: { before, after: timeZone },
      ip,
    })
  }

  prefixes() {
    return FraudRiskPrefix.query().orderBy('prefix')
  }

  async exportCsv() {
    const rows = await this.prefixes()
    return (
      [
        CSV_HEADER,
        ...rows.map((row) => [row.prefix, row.riskClass, csvField(row.label)].join(',')),
      ].join('\n') + '\n'
    )
  }

  /** Replaces the whole table with the CSV (header optional); nothing changes if a line is wrong. */
  async importCsv(text: string, { actor, ip }: Actor) {
    const entries = parsePrefixCsv(text)
    await db.transaction(async (trx) => {
      await trx.from('fraud_risk_prefixes').delete()
      for (const entry of entries) await FraudRiskPrefix.create(entry, { client: trx })
    })
    ;(await app.container.make('fraud.policies')).forgetRiskPrefixes()
    await AuditLog.record({
      action: 'fraud.prefixes.imported',
      actor,
      companyId: null,
      target: { type: 'fraud_prefixes', id: 'all' },
      details: { count: entries.length },
      ip,
    })
    return entries.length
  }
}

/** The audit's words for a policy: short strings, no nested JSON. */
function describe(row: FraudCompanyPolicy) {
  const limits: string[] = []
  for (const subject of LIMIT_SUBJECTS) {
    const own: Partial<FraudLimits> = row.limits[subject] ?? {}
    for (const field of LIMIT_FIELDS)
      if (own[field] !== undefined) limits.push(`${subject}.${field}=${own[field]}`)
  }
  if (row.limits.callsToOneNumberPerHour !== undefined)
    limits.push(`callsToOneNumberPerHour=${row.limits.callsToOneNumberPerHour}`)
  if (row.limits.maxDurationSeconds !== undefined)
    limits.push(`maxDurationSeconds=${row.limits.maxDurationSeconds ?? '-'}`)
  return {
    countries: row.allowedCountries.join(', '),
    riskClasses: row.enabledRiskClasses.join(', ') || '-',
    suspension: row.outboundSuspension,
    limits: limits.join(', ') || '-',
  }
}

function csvField(value: string) {
  return /[",\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value
}

/** One CSV line: fields split on commas, double quotes around a field that holds commas or quotes. */
function splitCsvLine(line: string) {
  const fields: string[] = []
  let current = ''
  let quoted = false
  for (let index = 0; index < line.length; index++) {
    const char = line[index]
    if (quoted) {
      if (char === '"' && line[index + 1] === '"') {
        current += '"'
        index++
      } else if (char === '"') quoted = false
      else current += char
    } else if (char === '"') quoted = true
    else if (char === ',') {
      fields.push(current)
      current = ''
    } else current += char
  }
  fields.push(current)
  return fields.map((field) => field.trim())
}

export function parsePrefixCsv(text: string) {
  const entries: Array<{ prefix: string; riskClass: string; label: string }> = []
  const seen = new Set<string>()
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/)
  for (const [index, raw] of lines.entries()) {
    const line = index + 1
    if (raw.trim() === '') continue
    if (index === 0 && raw.trim().toLowerCase().replace(/\s/g, '') === CSV_HEADER) continue
    const fields = splitCsvLine(raw)
    if (fields.length !== 3) throw new PrefixImportError(line, 'columns')
    const [prefix, riskClass, label] = fields
    const digits = prefix.replace(/^\+/, '')
    if (!/^[1-9]\d{0,14}$/.test(digits)) throw new PrefixImportError(line, 'prefix')
    if (!(RISK_CLASSES as readonly string[]).includes(riskClass))
      throw new PrefixImportError(line, 'risk_class')
    if (label.length === 0 || label.length > 120) throw new PrefixImportError(line, 'label')
    if (seen.has(digits)) throw new PrefixImportError(line, 'duplicate')
    seen.add(digits)
    entries.push({ prefix: digits, riskClass, label })
  }
  if (!entries.length) throw new PrefixImportError(1, 'empty')
  return entries
}
