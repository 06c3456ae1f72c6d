import { inject } from '@adonisjs/core'
import vine from '@vinejs/vine'
import type { HttpContext } from '@adonisjs/core/http'
import Invitation from '#accounts/models/invitation'
import User from '#accounts/models/user'
import InvitationService, { InvitationError } from '#accounts/services/invitation_service'
import CompanyRoleService, { RoleChangeError } from '#accounts/services/company_role_service'
import type { CompanyRoleName } from '#accounts/permissions'
import { inviteValidator } from '#accounts/validators/auth_validators'

const roleValidator = vine.create({ role: vine.string().in(['owner', 'admin', 'member']) })

/** Company admins: the company's users, their roles, and invitations. */
@inject()
export default class TeamController {
  constructor(
    protected invitations: InvitationService,
    protected roles: CompanyRoleService
  ) {}

  protected async companyOf(ctx: HttpContext) {
    const user = ctx.auth.getUserOrFail()
    const company = await user.related('company').query().firstOrFail()
    await ctx.bouncer.with('CompanyPolicy').authorize('manageUsers', company)
    return { user, company }
  }

  async index(ctx: HttpContext) {
    const { user, company } = await this.companyOf(ctx)
    const members = await User.query()
      .where('company_id', company.id)
      .preload('role')
      .orderBy('full_name')
    const invitations = await Invitation.query()
      .where('company_id', company.id)
      .whereNull('accepted_at')
      .whereNull('revoked_at')
      .preload('role')
      .orderBy('created_at', 'desc')
    const isOwner = members.some((member) => member.id === user.id && member.role.name === 'owner')
    return ctx.view.render('pages/customer/team', { members, invitations, isOwner })
  }

  async invite(ctx: HttpContext) {
    const { user, company } = await this.companyOf(ctx)
    const { email, role } = await ctx.request.validateUsing(inviteValidator)
    try {
      await this.invitations.invite(
        company,
        email,
        role as 'admin' | 'member',
        user,
        ctx.request.ip()
      )
    } catch (error) {
      if (error instanceof InvitationError) {
        ctx.session.flashAll()
        ctx.session.flashErrors({ email: ctx.i18n.t(`ui.team.${error.code}`) })
        return ctx.response.redirect().back()
      }
      throw error
    }
    ctx.session.flash('notice', ctx.i18n.t('ui.team.invited', { email }))
    return ctx.response.redirect().toRoute('customer.team')
  }

  async revoke(ctx: HttpContext) {
    const { user, company } = await this.companyOf(ctx)
    const invitation = await Invitation.query()
      .where('company_id', company.id)
      .where('id', ctx.params.id)
      .firstOrFail()
    await this.invitations.revoke(invitation, user, ctx.request.ip())
    return ctx.response.redirect().toRoute('customer.team')
  }

  async changeRole(ctx: HttpContext) {
    const { user, company } = await this.companyOf(ctx)
    const member = await User.query()
      .where('company_id', company.id)
      .where('id', ctx.params.id)
      .firstOrFail()
    const { role } = await ctx.request.validateUsing(roleValidator)
    try {
      const outcome = await this.roles.change(
        member,
        role as CompanyRoleName,
        user,
        ctx.request.ip()
      )
      if (outcome === 'offered')
        ctx.session.flash(
          'notice',
          ctx.i18n.t('ui.team.ownership_offered', { name: member.fullName })
        )
    } catch (error) {
      if (!(error instanceof RoleChangeError)) throw error
      ctx.session.flash('error', ctx.i18n.t(`ui.team.${error.code}`))
    }
    return ctx.response.redirect().toRoute('customer.team')
  }

  /** An owner hands ownership back and stays admin, while another active owner remains. */
  async stepDown(ctx: HttpContext) {
    const { user } = await this.companyOf(ctx)
    try {
      await this.roles.stepDown(user, ctx.request.ip())
      ctx.session.flash('notice', ctx.i18n.t('ui.team.stepped_down'))
      return ctx.response.redirect().toRoute('customer.dashboard')
    } catch (error) {
      if (!(error instanceof RoleChangeError)) throw error
      ctx.session.flash('error', ctx.i18n.t(`ui.team.${error.code}`))
      return ctx.response.redirect().toRoute('customer.team')
    }
  }

  /** The colleague an owner offered ownership accepts it (no team permission needed). */
  async acceptOwnership(ctx: HttpContext) {
    const user = ctx.auth.getUserOrFail()
    try {
      await this.roles.acceptOwnership(user, ctx.request.ip())
      ctx.session.flash('notice', ctx.i18n.t('ui.team.ownership_accepted'))
    } catch (error) {
      if (!(error instanceof RoleChangeError)) throw error
      ctx.session.flash('error', ctx.i18n.t(`ui.team.${error.code}`))
    }
    return ctx.response.redirect().toRoute('customer.dashboard')
  }
}
