import type { HttpContext } from '@adonisjs/core/http'
import type { NextFn } from '@adonisjs/core/types/http'
import Role from '#accounts/models/role'
import { ENDED_ACCOUNT_ROUTES } from '#accounts/ended_account'

/**
 * The customer area: users that belong to a company (staff have their own area). When the
 * company's account has ended, only its owners still get here (login and session checks), and
 * only to the invoices and the data export; the rest answers with the page saying so.
 */
export default class CustomerMiddleware {
  async handle(ctx: HttpContext, next: NextFn) {
    const user = ctx.auth.getUserOrFail()
    if (user.isStaff || user.companyId === null) {
      return ctx.response.redirect().toRoute('admin.dashboard')
    }
    const company = await user.related('company').query().firstOrFail()
    const role = await Role.find(user.roleId)
    ctx.view.share({
      company,
      accountEnded: company.status === 'terminated',
      isOwner: role?.name === 'owner',
    })
    if (company.status === 'terminated') {
      const name = ctx.route?.name ?? ''
      if (!ENDED_ACCOUNT_ROUTES.has(name)) {
        const refused = name !== 'customer.dashboard'
        const page = await ctx.view.render('pages/customer/account_ended', {
          refused,
          terminatedAt: company.terminatedAt,
        })
        return ctx.response.status(refused ? 403 : 200).send(page)
      }
    }
    return next()
  }
}
