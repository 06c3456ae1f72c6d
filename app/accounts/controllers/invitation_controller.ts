import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import InvitationService, { InvitationError } from '#accounts/services/invitation_service'
import { acceptInvitationValidator } from '#accounts/validators/auth_validators'

/** The invited person's side: open the link, choose name and password. */
@inject()
export default class InvitationController {
  constructor(protected invitations: InvitationService) {}

  async show({ params, view, response, session, i18n }: HttpContext) {
    const invitation = await this.invitations.findUsable(params.token)
    if (!invitation) {
      session.flash('error', i18n.t('ui.team.invalid_link'))
      return response.redirect().toRoute('session.create')
    }
    return view.render('pages/auth/accept_invitation', { invitation, token: params.token })
  }

  async accept({ request, response, session, auth, i18n }: HttpContext) {
    const {
      token,
      full_name: fullName,
      password,
    } = await request.validateUsing(acceptInvitationValidator)
    try {
      const user = await this.invitations.accept(token, fullName, password, request.ip())
      await auth.use('web').login(user)
      return response.redirect().toRoute('customer.dashboard')
    } catch (error) {
      if (error instanceof InvitationError) {
        session.flash('error', i18n.t(`ui.team.${error.code}`))
        return response.redirect().toRoute('session.create')
      }
      throw error
    }
  }
}
