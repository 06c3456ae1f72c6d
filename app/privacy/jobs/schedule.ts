import type { JobQueue } from '#core/queue/types'
import InformationRequestRetentionJob from '#privacy/jobs/information_request_retention_job'
import DataSubjectRequestRetentionJob from '#privacy/jobs/data_subject_request_retention_job'
import DataExportJob from '#privacy/jobs/data_export_job'
import DataSubjectRequestMailJob from '#privacy/jobs/data_subject_request_mail_job'
import EmailChangeMailJob from '#privacy/jobs/email_change_mail_job'
import AccountEndMailJob from '#privacy/jobs/account_end_mail_job'
import AccountEndJob from '#privacy/jobs/account_end_job'
import AccountTerminationMailJob from '#privacy/jobs/account_termination_mail_job'
import BreachNoticeMailJob from '#privacy/jobs/breach_notice_mail_job'
import BreachDeadlineJob from '#privacy/jobs/breach_deadline_job'
import CompanyPrivacyRequestMailJob from '#privacy/jobs/company_privacy_request_mail_job'

const HOUR = 60 * 60 * 1000

export async function registerPrivacyJobs(queue: JobQueue) {
  // Every node's worker knows the jobs it may be handed (BullMQ gives any job to any node)
  queue.register(new DataExportJob())
  queue.register(new DataSubjectRequestMailJob())
  queue.register(new EmailChangeMailJob())
  queue.register(new AccountEndMailJob())
  queue.register(new AccountTerminationMailJob())
  queue.register(new BreachNoticeMailJob())
  queue.register(new CompanyPrivacyRequestMailJob())
  await queue.schedule(new InformationRequestRetentionJob(), {}, { everyMs: 6 * HOUR })
  await queue.schedule(new DataSubjectRequestRetentionJob(), {}, { everyMs: 6 * HOUR })
  // Hourly: a termination takes effect within the first hour of its end date
  await queue.schedule(new AccountEndJob(), {}, { everyMs: HOUR })
  // The 72 hours of Art. 33(1): checked every quarter of an hour
  await queue.schedule(new BreachDeadlineJob(), {}, { everyMs: HOUR / 4 })
}
