import type { HttpContext } from '@adonisjs/core/http'
import type { NextFn } from '@adonisjs/core/types/http'

/** The customer area: users that belong to a company (staff have their own area). */
export default class CustomerMiddleware {
  async handle(ctx: HttpContext, next: NextFn) {
    const user = ctx.auth.getUserOrFail()
    if (user.isStaff || user.companyId === null) {
      return ctx.response.redirect().toRoute('admin.dashboard')
    }
    const company = await user.related('company').query().firstOrFail()
    ctx.view.share({ company })
    return next()
  }
}
