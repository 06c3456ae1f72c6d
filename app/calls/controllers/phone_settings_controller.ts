import { inject } from '@adonisjs/core'
import vine from '@vinejs/vine'
import type { HttpContext } from '@adonisjs/core/http'
import { ITEMISED_NUMBERS, type ItemisedNumbers } from '#accounts/models/company'
import InternalDirectory from '#calls/internal/internal_directory'
import PhoneSettingsService from '#calls/services/phone_settings_service'

const userSettingsValidator = vine.create({
  clir_default: vine.boolean().optional(),
  reject_anonymous: vine.boolean().optional(),
})

const companySettingsValidator = vine.create({
  itemised_numbers: vine.string().in([...ITEMISED_NUMBERS]),
})

/** Phone settings: the user's caller-ID choices, and the company's itemised-number choice (owners). */
@inject()
export default class PhoneSettingsController {
  constructor(protected settings: PhoneSettingsService) {}

  async show({ view, auth, bouncer }: HttpContext) {
    await bouncer.authorize('permission', 'calls.place')
    const user = auth.getUserOrFail()
    const company = await user.related('company').query().firstOrFail()
    const line = await new InternalDirectory().settingsOf(user.id)
    return view.render('pages/customer/phone_settings', { user, company, line })
  }

  async update({ auth, bouncer, request, response, session, i18n }: HttpContext) {
    await bouncer.authorize('permission', 'calls.place')
    const data = await request.validateUsing(userSettingsValidator)
    await this.settings.updateUser(
      auth.getUserOrFail(),
      { clirDefault: data.clir_default ?? false, rejectAnonymous: data.reject_anonymous ?? false },
      request.ip()
    )
    session.flash('notice', i18n.t('phone.settings.saved'))
    return response.redirect().toRoute('customer.phone_settings')
  }

  /** A suspended company keeps read access only (as for its users, CompanyPolicy). */
  async updateCompany({ auth, bouncer, request, response, session, i18n }: HttpContext) {
    await bouncer.authorize('permission', 'company.settings.manage')
    const user = auth.getUserOrFail()
    const company = await user.related('company').query().firstOrFail()
    if (company.status === 'suspended') {
      session.flash('error', i18n.t('phone.settings.company_suspended'))
      return response.redirect().toRoute('customer.phone_settings')
    }
    const { itemised_numbers: itemised } = await request.validateUsing(companySettingsValidator)
    await this.settings.updateCompany(company, itemised as ItemisedNumbers, user, request.ip())
    session.flash('notice', i18n.t('phone.settings.saved'))
    return response.redirect().toRoute('customer.phone_settings')
  }
}
