import { inject } from '@adonisjs/core'
import vine from '@vinejs/vine'
import type { HttpContext } from '@adonisjs/core/http'
import InternalDirectory from '#calls/internal/internal_directory'
import InternalLineService from '#calls/internal/internal_line_service'
import PresenceService from '#calls/internal/presence_service'

/** Only the settings sent change: the web phone toggles do not disturb alone. */
const lineSettingsValidator = vine.create({
  do_not_disturb: vine.boolean().optional(),
  call_waiting: vine.boolean().optional(),
  /** The settings form sends every box; an unticked one is absent. */
  form: vine.boolean().optional(),
})

/** The user's own line: do not disturb and call waiting (phone settings page and web phone). */
@inject()
export default class LineSettingsController {
  constructor(
    protected lines: InternalLineService,
    protected directory: InternalDirectory,
    protected presence: PresenceService
  ) {}

  /** The colleague list of the web phone: name, extension and presence right now (never stored). */
  async colleagues({ auth, bouncer, response }: HttpContext) {
    await bouncer.authorize('permission', 'calls.place')
    response.header('Cache-Control', 'no-store')
    return this.presence.colleagues(auth.getUserOrFail())
  }

  /** The web phone reads its state on start: extension and do not disturb. */
  async show({ auth, bouncer, response }: HttpContext) {
    await bouncer.authorize('permission', 'calls.place')
    response.header('Cache-Control', 'no-store')
    return this.directory.settingsOf(auth.getUserOrFail().id)
  }

  async update({ auth, bouncer, request, response, session, i18n }: HttpContext) {
    await bouncer.authorize('permission', 'calls.place')
    const data = await request.validateUsing(lineSettingsValidator)
    const fromForm = data.form === true
    const line = await this.lines.updateSettings(
      auth.getUserOrFail(),
      {
        doNotDisturb: fromForm ? (data.do_not_disturb ?? false) : data.do_not_disturb,
        callWaiting: fromForm ? (data.call_waiting ?? false) : data.call_waiting,
      },
      request.ip()
    )
    if (!fromForm)
      return {
        extension: line.extension,
        doNotDisturb: line.doNotDisturb,
        callWaiting: line.callWaiting,
      }
    session.flash('notice', i18n.t('phone.settings.saved'))
    return response.redirect().toRoute('customer.phone_settings')
  }
}
