import { inject } from '@adonisjs/core'
import vine from '@vinejs/vine'
import type { HttpContext } from '@adonisjs/core/http'
import User from '#accounts/models/user'
import { ITEMISED_NUMBERS, type ItemisedNumbers } from '#accounts/models/company'
import InternalDirectory from '#calls/internal/internal_directory'
import CallForwardingService from '#calls/internal/call_forwarding_service'
import { forwardingRowsOf } from '#calls/validators/forwarding_validators'
import InternalSetting from '#calls/models/internal_setting'
import PhoneSettingsService, {
  FullNumbersDeclarationError,
} from '#calls/services/phone_settings_service'

const userSettingsValidator = vine.create({
  clir_default: vine.boolean().optional(),
  reject_anonymous: vine.boolean().optional(),
})

const companySettingsValidator = vine.create({
  itemised_numbers: vine.string().in([...ITEMISED_NUMBERS]),
  full_numbers_declaration: vine.boolean().optional(),
})

/** Phone settings: the user's caller-ID choices, and the company's itemised-number choice (owners). */
@inject()
export default class PhoneSettingsController {
  constructor(
    protected settings: PhoneSettingsService,
    protected forwarding: CallForwardingService
  ) {}

  async show({ view, auth, bouncer }: HttpContext) {
    await bouncer.authorize('permission', 'calls.place')
    const user = auth.getUserOrFail()
    const company = await user.related('company').query().firstOrFail()
    const declaredBy = company.fullNumbersDeclaredBy
      ? await User.find(company.fullNumbersDeclaredBy)
      : null
    const line = await new InternalDirectory().settingsOf(user.id)
    const presenceEnabled = (await InternalSetting.find(company.id))?.presenceEnabled ?? false
    const rules = await this.forwarding.rulesOf(user.id)
    const forwarding = forwardingRowsOf(rules)
    return view.render('pages/customer/phone_settings', {
      user,
      company,
      declaredBy,
      line,
      presenceEnabled,
      forwarding,
      forwardingColleagues: await this.forwarding.colleaguesFor(user),
    })
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
    const data = await request.validateUsing(companySettingsValidator)
    const isOwner = (await user.related('role').query().first())?.name === 'owner'
    try {
      await this.settings.updateCompany(
        company,
        data.itemised_numbers as ItemisedNumbers,
        user,
        request.ip(),
        // The words the owner saw and confirmed, in their language
        {
          confirmed: data.full_numbers_declaration === true,
          text: i18n.t('phone.settings.full_declaration'),
        },
        isOwner
      )
    } catch (error) {
      if (!(error instanceof FullNumbersDeclarationError)) throw error
      session.flashAll()
      session.flashErrors({
        full_numbers_declaration: i18n.t(`phone.settings.full_declaration_${error.code}`),
      })
      return response.redirect().toRoute('customer.phone_settings')
    }
    session.flash('notice', i18n.t('phone.settings.saved'))
    return response.redirect().toRoute('customer.phone_settings')
  }
}
