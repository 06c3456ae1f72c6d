import { inject } from '@adonisjs/core'
import vine from '@vinejs/vine'
import type { HttpContext } from '@adonisjs/core/http'
import SipDevice from '#calls/models/sip_device'
import SipDeviceService from '#calls/services/sip_device_service'
import SipLockService from '#calls/services/sip_lock_service'
import { configuredRealm, registrarSettings } from '#calls/signalling/registrar_settings'
import DeviceSetupService from '#calls/services/device_setup_service'

const deviceValidator = vine.create({
  label: vine.string().trim().minLength(1).maxLength(100),
})

const encryptionValidator = vine.create({
  encrypted_only: vine.boolean().optional(),
})

export const lockValidator = vine.create({
  scope: vine.enum(['source', 'username'] as const),
  subject: vine.string().trim().minLength(1).maxLength(64),
})

/**
 * A user's own SIP phones: added with a generated login shown once, listed, revoked. Company
 * admins also see the brute-force locks that keep out any of the company's phones, and lift them.
 */
@inject()
export default class DevicesController {
  constructor(
    protected devices: SipDeviceService,
    protected locks: SipLockService,
    protected setup: DeviceSetupService
  ) {}

  async index(ctx: HttpContext) {
    await ctx.bouncer.authorize('permission', 'calls.place')
    const devices = await this.devices.listForUser(ctx.auth.getUserOrFail().id)
    return this.#render(ctx, devices, null)
  }

  /** Renders the page with the password instead of redirecting: it is never stored, not even in the session. */
  async store(ctx: HttpContext) {
    const { bouncer, auth, request } = ctx
    await bouncer.authorize('permission', 'calls.place')
    const user = auth.getUserOrFail()
    const { label } = await request.validateUsing(deviceValidator)
    const created = await this.devices.create(user, label, { ip: request.ip() })
    const devices = await this.devices.listForUser(user.id)
    return this.#render(ctx, devices, created)
  }

  /** Company settings: "encrypted only" for the company's SIP phones (TLS and SRTP); audited. */
  async updateEncryption({ auth, bouncer, request, response, session, i18n }: HttpContext) {
    await bouncer.authorize('permission', 'company.settings.manage')
    const actor = auth.getUserOrFail()
    const company = await actor.related('company').query().firstOrFail()
    if (company.status === 'suspended') {
      session.flash('error', i18n.t('phone.settings.company_suspended'))
      return response.redirect().toRoute('customer.devices')
    }
    const { encrypted_only: on } = await request.validateUsing(encryptionValidator)
    const evicted = await this.devices.setEncryptedOnly(company, on ?? false, {
      actor,
      ip: request.ip(),
    })
    session.flash(
      'notice',
      evicted > 0
        ? i18n.t('phone.devices.encryption.saved_evicted', { count: evicted })
        : i18n.t('phone.settings.saved')
    )
    return response.redirect().toRoute('customer.devices')
  }

  /** Company admins: lift a lock that keeps out one of the company's phones (audited). */
  async liftLock({ bouncer, auth, request, response, session, i18n }: HttpContext) {
    await bouncer.authorize('permission', 'company.users.manage')
    const user = auth.getUserOrFail()
    const { scope, subject } = await request.validateUsing(lockValidator)
    const lifted = await this.locks.liftForCompany(user.companyId!, scope, subject, {
      actor: user,
      ip: request.ip(),
    })
    session.flash(
      lifted ? 'notice' : 'error',
      i18n.t(lifted ? 'phone.devices.locks.lifted' : 'phone.devices.locks.not_found')
    )
    return response.redirect().toRoute('customer.devices')
  }

  /** Members see the locks on their own phones; company admins those on every phone of the company. */
  async #render({ view, bouncer, auth }: HttpContext, devices: SipDevice[], created: unknown) {
    const user = auth.getUserOrFail()
    const companyWide = await bouncer.allows('permission', 'company.users.manage')
    const locks = await this.locks.forCompany(user.companyId!, companyWide ? undefined : user.id)
    const company = await user.related('company').query().firstOrFail()
    return view.render('pages/customer/devices', {
      encryptedOnly: company.encryptedOnly,
      canChangeEncryption: await bouncer.allows('permission', 'company.settings.manage'),
      devices,
      server: configuredRealm(),
      created,
      locks,
      canLift: companyWide,
      lockMinutes: Math.round(registrarSettings().lockout.lockSeconds / 60),
      setup: await this.setup.describe(),
    })
  }

  async destroy({ bouncer, auth, request, response, params, session, i18n }: HttpContext) {
    await bouncer.authorize('permission', 'calls.place')
    const user = auth.getUserOrFail()
    const device = await SipDevice.query()
      .where('user_id', user.id)
      .where('id', params.id)
      .firstOrFail()
    await this.devices.revoke(device, { actor: user, ip: request.ip() })
    session.flash('notice', i18n.t('phone.devices.revoked', { label: device.label }))
    return response.redirect().toRoute('customer.devices')
  }
}
