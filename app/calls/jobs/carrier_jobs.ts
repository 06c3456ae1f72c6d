import type { JobQueue } from '#core/queue/types'
import CarrierActivationJob from '#calls/jobs/carrier_activation_job'
import CarrierAnnouncementMailJob from '#calls/jobs/carrier_announcement_mail_job'

const MINUTE = 60 * 1000

/** Carrier lifecycle jobs; the mail job is registered up front so every node's worker knows it. */
export async function registerCarrierJobs(queue: JobQueue) {
  queue.register(new CarrierAnnouncementMailJob())
  await queue.schedule(new CarrierActivationJob(), {}, { everyMs: 15 * MINUTE })
}
