import { inject } from '@adonisjs/core'
import vine from '@vinejs/vine'
import type { HttpContext } from '@adonisjs/core/http'
import InternalLineService, { ExtensionError } from '#calls/internal/internal_line_service'

/** Blanks are dropped; the rules (2-4 digits, no 110/112/115/116/118, no leading 0) are the service's. */
const extensionValidator = vine.create({
  extension: vine.string().trim().maxLength(16).nullable(),
})

/** Company owners and admins (numbers.assign) choose each colleague's internal extension. */
@inject()
export default class ExtensionsController {
  constructor(protected lines: InternalLineService) {}

  async update(ctx: HttpContext) {
    const { auth, bouncer, request, response, session, i18n, params } = ctx
    const actor = auth.getUserOrFail()
    const company = await actor.related('company').query().firstOrFail()
    await bouncer.with('NumberPolicy').authorize('assign', company)
    const { extension } = await request.validateUsing(extensionValidator)
    const userId = Number(params.userId)
    try {
      await this.lines.setExtension(company, userId, extension, { actor, ip: request.ip() })
      session.flash('notice', i18n.t('numbers.extensions.saved'))
    } catch (error) {
      if (!(error instanceof ExtensionError)) throw error
      // The message stands next to the colleague's field, with what was typed.
      session.flashErrors({
        [`extension_${userId}`]: i18n.t(`numbers.extensions.errors.${error.code}`, {
          extension: error.extension ?? '',
        }),
      })
      session.flash('extensionInput', { userId, value: extension ?? '' })
    }
    return response.redirect().toRoute('customer.numbers')
  }
}
