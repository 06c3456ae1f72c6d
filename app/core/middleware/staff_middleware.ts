import type { HttpContext } from '@adonisjs/core/http'
import type { NextFn } from '@adonisjs/core/types/http'

/**
 * The admin area: staff only (403 for customers), and only after the session passed 2FA,
 * which is mandatory for staff. Fine-grained rights are checked by the policies.
 */
export default class StaffMiddleware {
  async handle(ctx: HttpContext, next: NextFn) {
    const user = ctx.auth.getUserOrFail()
    if (!user.isStaff || !(await user.hasPermission('admin.access'))) {
      // A middleware's return value is not the response body: send the page explicitly
      return ctx.response.status(403).send(await ctx.view.render('pages/errors/forbidden'))
    }
    if (!user.twoFactorEnabled) {
      ctx.session.flash('notice', ctx.i18n.t('auth.staff_needs_2fa'))
      return ctx.response.redirect().toRoute('account.two_factor.show')
    }
    return next()
  }
}
