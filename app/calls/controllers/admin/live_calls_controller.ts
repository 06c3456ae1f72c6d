import type { HttpContext } from '@adonisjs/core/http'
import app from '@adonisjs/core/services/app'
import Company from '#accounts/models/company'
import AuditLog from '#accounts/services/audit_log'

/** Staff: the calls running on this node, and ending one (audited). */
export default class LiveCallsController {
  async index({ view, bouncer }: HttpContext) {
    await bouncer.with('LiveCallPolicy').authorize('manage')
    const b2bua = await app.container.make('calls.b2bua')
    const calls = b2bua.calls
    const companyIds = [...new Set(calls.map((call) => call.record.companyId).filter((id): id is number => id !== null))]
    const companies = new Map((await Company.query().whereIn('id', companyIds)).map((company) => [company.id, company.legalName]))
    return view.render('pages/admin/calls/live', {
      draining: b2bua.draining,
      calls: calls.map((call) => ({
        uuid: call.uuid,
        company: call.record.companyId ? companies.get(call.record.companyId) : null,
        direction: call.record.direction,
        emergency: call.record.emergency,
        carrier: call.record.carrierName,
        // Staff see the numbers shortened: enough to recognise a call, not to read a profile.
        caller: shorten(call.record.callerNumber),
        callee: shorten(call.record.calleeNumber),
        startedAt: call.session.startedAt.toISOString(),
        answered: call.session.answered,
        relayed: call.session.relayed,
      })),
    })
  }

  async destroy({ params, bouncer, response, session, auth, request, i18n }: HttpContext) {
    await bouncer.with('LiveCallPolicy').authorize('manage')
    const b2bua = await app.container.make('calls.b2bua')
    const ended = await b2bua.end(params.uuid)
    if (!ended) {
      session.flash('error', i18n.t('calls.live_not_found'))
      return response.redirect().toRoute('admin.calls.live')
    }
    await AuditLog.record({
      action: 'calls.ended_by_staff',
      actor: auth.getUserOrFail(),
      target: { type: 'call', id: params.uuid },
      ip: request.ip(),
    })
    session.flash('success', i18n.t('calls.live_ended'))
    return response.redirect().toRoute('admin.calls.live')
  }
}

function shorten(number: string | null) {
  if (!number) return null
  return number.length > 6 ? `${number.slice(0, -3)}xxx` : number
}
