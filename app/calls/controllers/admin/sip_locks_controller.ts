import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import SipLockService from '#calls/services/sip_lock_service'
import { lockValidator } from '#calls/controllers/devices_controller'
import { registrarSettings } from '#calls/signalling/registrar_settings'

/** Staff: the active brute-force locks of SIP logins, and lifting one (sip.locks.lift, audited). */
@inject()
export default class SipLocksController {
  constructor(protected locks: SipLockService) {}

  async index({ view, bouncer }: HttpContext) {
    await bouncer.authorize('permission', 'sip.locks.lift')
    return view.render('pages/admin/calls/sip_locks', {
      locks: await this.locks.active(),
      lockMinutes: Math.round(registrarSettings().lockout.lockSeconds / 60),
    })
  }

  async lift({ bouncer, auth, request, response, session, i18n }: HttpContext) {
    await bouncer.authorize('permission', 'sip.locks.lift')
    const { scope, subject } = await request.validateUsing(lockValidator)
    const lifted = await this.locks.lift(scope, subject, {
      actor: auth.getUserOrFail(),
      ip: request.ip(),
    })
    session.flash(
      lifted ? 'notice' : 'error',
      i18n.t(lifted ? 'phone.devices.locks.lifted' : 'phone.devices.locks.not_found')
    )
    return response.redirect().toRoute('admin.sip_locks')
  }
}
