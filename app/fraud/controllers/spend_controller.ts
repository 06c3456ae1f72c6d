import type { HttpContext } from '@adonisjs/core/http'
import app from '@adonisjs/core/services/app'
import Company from '#accounts/models/company'
import User from '#accounts/models/user'
import AuditLog from '#accounts/services/audit_log'
import fraudConfig from '#config/fraud'
import FraudUserPolicy from '#fraud/models/fraud_user_policy'
import { userCapsValidator } from '#fraud/validators/fraud_validators'

const micro = (euro: number | null | undefined) =>
  euro === null || euro === undefined ? null : Math.round(euro * 1_000_000)

/**
 * The customer's spend so far: their own with their own caps, the company's for those who see
 * billing, and every member's with the caps the company's admins (company.users.manage) set.
 */
export default class SpendController {
  async show({ auth, view, bouncer }: HttpContext) {
    const user = auth.getUserOrFail()
    const company = await Company.findOrFail(user.companyId)
    const timeZone = company.timeZone ?? fraudConfig.timeZone
    const spend = await app.container.make('fraud.spend')
    const policies = await app.container.make('fraud.policies')
    const seesCompany = await user.hasPermission('billing.view')
    const managesUsers = await bouncer.allows('permission', 'company.users.manage')
    const members = managesUsers
      ? await User.query()
          .where('company_id', company.id)
          .whereNull('disabled_at')
          .orderBy('full_name')
      : []
    const caps = new Map(
      (
        await FraudUserPolicy.query().whereIn(
          'user_id',
          members.length ? members.map((member) => member.id) : [user.id]
        )
      ).map((row) => [row.userId, row])
    )
    const capsOf = (userId: number) => ({
      dailyCapMicro: caps.get(userId)?.dailyCapMicro ?? null,
      monthlyCapMicro: caps.get(userId)?.monthlyCapMicro ?? null,
    })
    return view.render('pages/customer/spend', {
      own: await spend.spent(`user:${user.id}`, timeZone),
      ownCaps: capsOf(user.id),
      company: seesCompany ? await spend.spent(`company:${company.id}`, timeZone) : null,
      limits: seesCompany ? (await policies.company(company)).spend : null,
      members: await Promise.all(
        members.map(async (member) => ({
          id: member.id,
          name: member.fullName,
          spent: await spend.spent(`user:${member.id}`, timeZone),
          caps: capsOf(member.id),
        }))
      ),
      timeZone,
    })
  }

  /** Company admins: a member's own daily and monthly caps (euro; empty: none), audited. */
  async updateUserCaps({ auth, bouncer, params, request, response, session, i18n }: HttpContext) {
    await bouncer.authorize('permission', 'company.users.manage')
    const actor = auth.getUserOrFail()
    const member = await User.query()
      .where('id', params.id)
      .where('company_id', actor.companyId!)
      .firstOrFail()
    const input = await request.validateUsing(userCapsValidator)
    const row =
      (await FraudUserPolicy.findBy('userId', member.id)) ??
      new FraudUserPolicy().merge({ userId: member.id, outboundSuspension: 'none' })
    const before = { daily: row.dailyCapMicro ?? null, monthly: row.monthlyCapMicro ?? null }
    row.dailyCapMicro = micro(input.daily_cap_euro)
    row.monthlyCapMicro = micro(input.monthly_cap_euro)
    await row.save()
    ;(await app.container.make('fraud.policies')).forgetUser(member.id)
    await AuditLog.record({
      action: 'fraud.user_caps.changed',
      actor,
      companyId: actor.companyId,
      target: { type: 'user', id: member.id },
      details: { before, after: { daily: row.dailyCapMicro, monthly: row.monthlyCapMicro } },
      ip: request.ip(),
    })
    session.flash('notice', i18n.t('fraud.spend.caps_saved', { name: member.fullName }))
    return response.redirect().toRoute('customer.spend')
  }
}
