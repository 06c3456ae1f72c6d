import { inject } from '@adonisjs/core'
import vine from '@vinejs/vine'
import type { HttpContext } from '@adonisjs/core/http'
import SipDevice from '#calls/models/sip_device'
import SipDeviceService from '#calls/services/sip_device_service'
import DeviceSetupService from '#calls/services/device_setup_service'

const deviceValidator = vine.create({
  label: vine.string().trim().minLength(1).maxLength(100),
})

/** A user's own SIP phones: added with a generated login shown once, listed, revoked. */
@inject()
export default class DevicesController {
  constructor(
    protected devices: SipDeviceService,
    protected setup: DeviceSetupService
  ) {}

  async index({ view, bouncer, auth }: HttpContext) {
    await bouncer.authorize('permission', 'calls.place')
    const devices = await this.devices.listForUser(auth.getUserOrFail().id)
    return view.render('pages/customer/devices', { devices, setup: await this.setup.describe(), created: null })
  }

  /** Renders the page with the password instead of redirecting: it is never stored, not even in the session. */
  async store({ view, bouncer, auth, request }: HttpContext) {
    await bouncer.authorize('permission', 'calls.place')
    const user = auth.getUserOrFail()
    const { label } = await request.validateUsing(deviceValidator)
    const created = await this.devices.create(user, label, { ip: request.ip() })
    const devices = await this.devices.listForUser(user.id)
    return view.render('pages/customer/devices', { devices, setup: await this.setup.describe(), created })
  }

  async destroy({ bouncer, auth, request, response, params, session, i18n }: HttpContext) {
    await bouncer.authorize('permission', 'calls.place')
    const user = auth.getUserOrFail()
    const device = await SipDevice.query().where('user_id', user.id).where('id', params.id).firstOrFail()
    await this.devices.revoke(device, { actor: user, ip: request.ip() })
    session.flash('notice', i18n.t('phone.devices.revoked', { label: device.label }))
    return response.redirect().toRoute('customer.devices')
  }
}
