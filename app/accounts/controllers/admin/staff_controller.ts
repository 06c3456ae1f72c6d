import { inject } from '@adonisjs/core'
import vine from '@vinejs/vine'
import type { HttpContext } from '@adonisjs/core/http'
import User from '#accounts/models/user'
import StaffService, { StaffError } from '#accounts/services/staff_service'
import { staffValidator } from '#accounts/validators/auth_validators'
import { STAFF_ROLES, type StaffRoleName } from '#accounts/permissions'

const roleValidator = vine.create({ role: vine.string().in(STAFF_ROLES as unknown as string[]) })
const disabledValidator = vine.create({ disabled: vine.boolean() })

/** Superadmins: staff accounts and their internal roles. */
@inject()
export default class StaffController {
  constructor(protected staff: StaffService) {}

  async index({ view, bouncer }: HttpContext) {
    await bouncer.with('StaffPolicy').authorize('manage')
    const members = await User.query().where('is_staff', true).preload('role').orderBy('full_name')
    return view.render('pages/admin/staff', { members, roles: STAFF_ROLES })
  }

  async store({ request, response, bouncer, auth, session, i18n }: HttpContext) {
    await bouncer.with('StaffPolicy').authorize('manage')
    const data = await request.validateUsing(staffValidator)
    try {
      await this.staff.create(
        data.email,
        data.full_name,
        data.role as StaffRoleName,
        auth.getUserOrFail(),
        request.ip()
      )
    } catch (error) {
      if (!(error instanceof StaffError)) throw error
      session.flashAll()
      session.flashErrors({ email: i18n.t('ui.team.already_user') })
      return response.redirect().back()
    }
    session.flash('notice', i18n.t('ui.staff.created', { email: data.email }))
    return response.redirect().toRoute('admin.staff.index')
  }

  async updateRole(ctx: HttpContext) {
    return this.#change(ctx, async (member, actor) => {
      const { role } = await ctx.request.validateUsing(roleValidator)
      await this.staff.changeRole(member, role as StaffRoleName, actor, ctx.request.ip())
    })
  }

  async updateDisabled(ctx: HttpContext) {
    return this.#change(ctx, async (member, actor) => {
      const { disabled } = await ctx.request.validateUsing(disabledValidator)
      await this.staff.setDisabled(member, disabled, actor, ctx.request.ip())
    })
  }

  async #change(ctx: HttpContext, apply: (member: User, actor: User) => Promise<void>) {
    await ctx.bouncer.with('StaffPolicy').authorize('manage')
    const member = await User.query()
      .where('is_staff', true)
      .where('id', ctx.params.id)
      .firstOrFail()
    try {
      await apply(member, ctx.auth.getUserOrFail())
      ctx.session.flash('notice', ctx.i18n.t('ui.actions.saved'))
    } catch (error) {
      if (!(error instanceof StaffError)) throw error
      ctx.session.flash('error', ctx.i18n.t('ui.team.own_role'))
    }
    return ctx.response.redirect().toRoute('admin.staff.index')
  }
}
