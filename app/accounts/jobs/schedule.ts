import type { JobQueue } from '#core/queue/types'
import AuditRetentionJob from '#accounts/jobs/audit_retention_job'
import ExpiredTokensJob from '#accounts/jobs/expired_tokens_job'
import PasswordResetMailJob from '#accounts/jobs/password_reset_mail_job'
import InvitationMailJob from '#accounts/jobs/invitation_mail_job'
import RoleChangedMailJob from '#accounts/jobs/role_changed_mail_job'
import SignupMailJob from '#accounts/jobs/signup_mail_job'
import CompanyStatusMailJob from '#accounts/jobs/company_status_mail_job'
import WebSessionRetentionJob from '#accounts/jobs/web_session_retention_job'

const HOUR = 60 * 60 * 1000

/** Mail jobs are registered up front so every node's worker knows them. */
export async function registerAccountJobs(queue: JobQueue) {
  queue.register(new PasswordResetMailJob())
  queue.register(new InvitationMailJob())
  queue.register(new RoleChangedMailJob())
  queue.register(new SignupMailJob())
  queue.register(new CompanyStatusMailJob())
  await queue.schedule(new AuditRetentionJob(), {}, { everyMs: HOUR })
  await queue.schedule(new ExpiredTokensJob(), {}, { everyMs: 6 * HOUR })
  await queue.schedule(new WebSessionRetentionJob(), {}, { everyMs: 6 * HOUR })
}
