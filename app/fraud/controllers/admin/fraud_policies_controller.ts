import { readFile } from 'node:fs/promises'
import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import Company from '#accounts/models/company'
import { OUTBOUND_SUSPENSIONS } from '#fraud/models/fraud_company_policy'
import FraudPolicyService, {
  LIMIT_FIELDS,
  LIMIT_SUBJECTS,
  PrefixImportError,
} from '#fraud/services/fraud_policy_service'
import { RISK_CLASSES } from '#fraud/services/number_risk'
import { companyPolicyValidator } from '#fraud/validators/fraud_validators'
import type { FraudLimitOverrides } from '#fraud/models/fraud_company_policy'

/** The form's field names of the limits: company_per_minute → limits.company.perMinute. */
const FIELD_NAMES = {
  concurrent: 'concurrent',
  perMinute: 'per_minute',
  perHour: 'per_hour',
  perDay: 'per_day',
} as const

/** Staff with fraud.manage: a company's fraud policy, and the risk prefix table with CSV import/export. */
@inject()
export default class FraudPoliciesController {
  constructor(protected service: FraudPolicyService) {}

  async show({ params, view, bouncer }: HttpContext) {
    await bouncer.with('FraudPolicy').authorize('manage')
    const company = await Company.findOrFail(params.id)
    const { row, effective } = await this.service.forCompany(company)
    return view.render('pages/admin/fraud/company', {
      company,
      row,
      effective,
      riskClasses: RISK_CLASSES,
      suspensions: OUTBOUND_SUSPENSIONS,
      subjects: LIMIT_SUBJECTS,
      fields: LIMIT_FIELDS,
      fieldNames: FIELD_NAMES,
    })
  }

  async update({ params, request, response, session, i18n, auth, bouncer }: HttpContext) {
    await bouncer.with('FraudPolicy').authorize('manage')
    const company = await Company.findOrFail(params.id)
    const input = await request.validateUsing(companyPolicyValidator)
    const limits: FraudLimitOverrides = {}
    for (const subject of LIMIT_SUBJECTS) {
      for (const field of LIMIT_FIELDS) {
        const value = input[`${subject}_${FIELD_NAMES[field]}`]
        if (value !== null && value !== undefined)
          limits[subject] = { ...limits[subject], [field]: value }
      }
    }
    if (input.calls_to_one_number_per_hour != null)
      limits.callsToOneNumberPerHour = input.calls_to_one_number_per_hour
    if (input.max_duration_seconds != null) limits.maxDurationSeconds = input.max_duration_seconds
    const micro = (euro: number | null | undefined) =>
      euro === null || euro === undefined ? null : Math.round(euro * 1_000_000)
    const spend = {
      maxPricePerMinuteMicro: micro(input.max_price_per_minute_euro),
      dailyCapMicro: micro(input.daily_cap_euro),
      monthlyCapMicro: micro(input.monthly_cap_euro),
    }
    if (Object.values(spend).some((value) => value !== null)) limits.spend = spend
    if (input.time_zone && input.time_zone !== company.timeZone) {
      await this.service.setTimeZone(company, input.time_zone, {
        actor: auth.getUserOrFail(),
        ip: request.ip(),
      })
    }
    await this.service.update(
      company,
      {
        allowedCountries: [...new Set(input.allowed_countries.split(/[\s,;]+/).filter(Boolean))],
        enabledRiskClasses: input.risk_classes ?? [],
        outboundSuspension: input.outbound_suspension,
        limits,
      },
      { actor: auth.getUserOrFail(), ip: request.ip() }
    )
    session.flash('notice', i18n.t('fraud.company.saved'))
    return response.redirect().toRoute('admin.fraud.company', { id: company.id })
  }

  async prefixes({ view, bouncer }: HttpContext) {
    await bouncer.with('FraudPolicy').authorize('manage')
    return view.render('pages/admin/fraud/prefixes', {
      prefixes: await this.service.prefixes(),
      riskClasses: RISK_CLASSES,
    })
  }

  async exportPrefixes({ response, bouncer }: HttpContext) {
    await bouncer.with('FraudPolicy').authorize('manage')
    response.header('Content-Type', 'text/csv; charset=utf-8')
    response.header('Content-Disposition', 'attachment; filename="fraud-risk-prefixes.csv"')
    return response.send(await this.service.exportCsv())
  }

  async importPrefixes({ request, response, session, i18n, auth, bouncer }: HttpContext) {
    await bouncer.with('FraudPolicy').authorize('manage')
    const file = request.file('csv', { size: '1mb', extnames: ['csv', 'txt'] })
    const text =
      file?.isValid && file.tmpPath
        ? await readFile(file.tmpPath, 'utf8')
        : String(request.input('csv_text', ''))
    try {
      const count = await this.service.importCsv(text, {
        actor: auth.getUserOrFail(),
        ip: request.ip(),
      })
      session.flash('notice', i18n.t('fraud.prefixes.imported', { count }))
    } catch (error) {
      if (!(error instanceof PrefixImportError)) throw error
      session.flashErrors({
        csv: i18n.t(`fraud.prefixes.errors.${error.code}`, { line: error.line }),
      })
    }
    return response.redirect().toRoute('admin.fraud.prefixes')
  }
}
