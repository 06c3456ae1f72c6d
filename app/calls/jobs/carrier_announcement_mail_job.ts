import app from '@adonisjs/core/services/app'
import mail from '@adonisjs/mail/services/main'
import Company from '#accounts/models/company'
import CarrierDirectory from '#calls/services/carrier_directory'
import type { Job } from '#core/queue/types'
import { appUrl } from '#config/app'

export interface CarrierAnnouncementMail {
  companyId: number
  carrierName: string
  /** YYYY-MM-DD */
  effectiveDate: string
}

/**
 * Tells one company's privacy contact about a newly announced sub-processor (Art. 28(2) GDPR).
 * One job per company, so a slow or failing mail server neither holds up the staff request nor
 * loses the other companies' mails (BullMQ retries each on its own).
 */
export default class CarrierAnnouncementMailJob implements Job<CarrierAnnouncementMail> {
  readonly name = 'calls.carrier_announcement_mail'

  async handle({ companyId, carrierName, effectiveDate }: CarrierAnnouncementMail) {
    const company = await Company.find(companyId)
    if (!company || company.status === 'terminated') return
    const directory = await app.container.make(CarrierDirectory)
    const view = await directory.find(carrierName)
    const subProcessor = view?.plugin.subProcessor
    // Withdrawn or gone from the config since: nothing to announce any more.
    if (!view || !subProcessor || view.lifecycle !== 'announced') return
    await mail.send((message) => {
      message
        .to(company.privacyContactEmail)
        .subject(
          `Neuer Unterauftragsverarbeiter / New sub-processor: ${subProcessor.legalEntity.name}`
        )
        .htmlView('emails/carrier_announced', {
          company,
          carrier: view.entry,
          subProcessor,
          effectiveDate,
          listUrl: `${appUrl}/transparency/sub-processors`,
          objectUrl: `${appUrl}/app/sub-processors`,
        })
    })
  }
}
