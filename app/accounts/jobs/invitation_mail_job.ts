import app from '@adonisjs/core/services/app'
import mail from '@adonisjs/mail/services/main'
import Invitation from '#accounts/models/invitation'
import User from '#accounts/models/user'
import InvitationService, { INVITATION_DAYS } from '#accounts/services/invitation_service'
import type { Job } from '#core/queue/types'
import { appUrl } from '#config/app'

export interface InvitationMail {
  invitationId: number
}

/**
 * Mails an invitation after the response. An address that already has an account gets a note
 * without a link instead, so the inviting company learns nothing about other companies' users.
 * Subjects are fixed text: nothing a customer typed stands in them.
 */
export default class InvitationMailJob implements Job<InvitationMail> {
  readonly name = 'accounts.invitation_mail'

  async handle({ invitationId }: InvitationMail) {
    const invitation = await Invitation.query().where('id', invitationId).preload('company').first()
    if (!invitation || !invitation.isUsable) return
    if (await User.findBy('email', invitation.email)) {
      await mail.send((message) => {
        message
          .to(invitation.email)
          .subject('Einladung zu FluffyCall / Invitation to FluffyCall')
          .htmlView('emails/invitation_existing_account', { loginUrl: `${appUrl}/login` })
      })
      return
    }
    const inviter = invitation.invitedById ? await User.find(invitation.invitedById) : null
    const link = await (await app.container.make(InvitationService)).issueLink(invitation)
    await mail.send((message) => {
      message
        .to(invitation.email)
        .subject('Einladung zu FluffyCall / Invitation to FluffyCall')
        .htmlView('emails/invitation', {
          company: invitation.company,
          inviter,
          link,
          days: INVITATION_DAYS,
        })
    })
  }
}
