import { DateTime } from 'luxon'
import User from '#accounts/models/user'
import AuditLog from '#accounts/services/audit_log'
import queue from '#core/services/queue'
import DataSubjectRequest, {
  type RequestChannel,
  type RequestKind,
} from '#privacy/models/data_subject_request'
import DataExportArchive from '#privacy/models/data_export_archive'
import DataExportService from '#privacy/services/data_export_service'
import DataExportJob from '#privacy/jobs/data_export_job'
import DataSubjectRequestMailJob from '#privacy/jobs/data_subject_request_mail_job'
import { EXPORT_ARCHIVE_DAYS } from '#privacy/personal_data'

/** Art. 12(3) GDPR: one month from receipt, extendable once by two further months with a reason. */
export const ANSWER_MONTHS = 1
export const EXTENSION_MONTHS = 2

export class RequestError extends Error {
  constructor(
    readonly reason:
      'already_open' | 'not_open' | 'already_extended' | 'deadline_passed' | 'not_an_export'
  ) {
    super(`Data-subject request not changed: ${reason}`)
  }
}

export interface MailedRequest {
  name: string
  email: string
  kind: RequestKind
  details: string | null
  receivedAt: DateTime
  userId: number | null
  companyId: number | null
}

/**
 * The one queue of data-subject requests (Art. 15-21 GDPR): filed by users themselves, entered by
 * staff from mail to datenschutz@fluffycall.de, or recorded when a company admin acts for a user.
 * Every step is audited; the requester hears of each by mail (through the job queue). The clock
 * is injectable.
 */
export default class DataSubjectRequestService {
  now: () => DateTime = () => DateTime.utc()

  dueFrom(receivedAt: DateTime) {
    return receivedAt.plus({ months: ANSWER_MONTHS })
  }

  /** A request a logged-in user files about themself. An export is prepared at once, as a job. */
  async file(user: User, kind: RequestKind, details: string | null, ip: string | null) {
    if (kind === 'access') {
      const open = await DataSubjectRequest.query()
        .where('user_id', user.id)
        .where('kind', 'access')
        .where('status', 'open')
        .first()
      if (open) throw new RequestError('already_open')
    }
    const request = await this.#create({
      companyId: user.companyId,
      userId: user.id,
      subjectName: user.fullName,
      subjectEmail: user.email,
      kind,
      channel: 'self_service',
      details,
      receivedAt: this.now(),
      actor: user,
      ip,
    })
    if (kind === 'access') await queue.dispatch(new DataExportJob(), { requestId: request.id })
    else
      await queue.dispatch(new DataSubjectRequestMailJob(), {
        requestId: request.id,
        event: 'received',
      })
    return request
  }

  /** Staff enter a request that came by mail or letter; the deadline runs from its receipt. */
  async enterFromMail(actor: User, facts: MailedRequest, ip: string | null) {
    const request = await this.#create({
      companyId: facts.companyId,
      userId: facts.userId,
      subjectName: facts.name,
      subjectEmail: facts.email,
      kind: facts.kind,
      channel: 'mail',
      details: facts.details,
      receivedAt: facts.receivedAt,
      actor,
      ip,
    })
    await queue.dispatch(new DataSubjectRequestMailJob(), {
      requestId: request.id,
      event: 'received',
    })
    return request
  }

  /** A company admin's action for one of their users, recorded as an answered request. */
  async recordAdminAction(
    actor: User,
    subject: Pick<User, 'id' | 'fullName' | 'email' | 'companyId'>,
    kind: RequestKind,
    outcome: string,
    ip: string | null
  ) {
    const now = this.now()
    const request = await this.#create({
      companyId: subject.companyId,
      userId: null,
      subjectName: subject.fullName,
      subjectEmail: subject.email,
      kind,
      channel: 'company_admin',
      details: null,
      receivedAt: now,
      actor,
      ip,
    })
    request.merge({ status: 'completed', outcome, handledById: actor.id, closedAt: now })
    await request.save()
    return request
  }

  async #create(facts: {
    companyId: number | null
    userId: number | null
    subjectName: string
    subjectEmail: string
    kind: RequestKind
    channel: RequestChannel
    details: string | null
    receivedAt: DateTime
    actor: User
    ip: string | null
  }) {
    const request = await DataSubjectRequest.create({
      companyId: facts.companyId,
      userId: facts.userId,
      subjectName: facts.subjectName,
      subjectEmail: facts.subjectEmail,
      kind: facts.kind,
      channel: facts.channel,
      details: facts.details,
      status: 'open',
      receivedAt: facts.receivedAt,
      dueAt: this.dueFrom(facts.receivedAt),
    })
    // The requester's name and address stay out of the audit log: the queue row is the record.
    await AuditLog.record({
      action: 'privacy.request.received',
      actor: facts.actor,
      companyId: facts.companyId,
      target: { type: 'data_subject_request', id: request.id },
      details: { kind: facts.kind, channel: facts.channel },
      ip: facts.ip,
    })
    return request
  }

  /** Open requests first, the nearest deadline first; then the closed ones, newest first. */
  async queue() {
    return DataSubjectRequest.query()
      .orderByRaw("case when status = 'open' then 0 else 1 end")
      .orderBy('due_at', 'asc')
      .orderBy('id', 'desc')
  }

  /** Open requests whose deadline has passed at `now`. */
  async overdue(now = this.now()) {
    return (await DataSubjectRequest.query().where('status', 'open')).filter(
      (request) => request.dueAt < now
    )
  }

  async forUser(userId: number) {
    return DataSubjectRequest.query().where('user_id', userId).orderBy('id', 'desc')
  }

  /** Art. 12(3): two more months, once, with the reason told to the requester within the first month. */
  async extend(actor: User, request: DataSubjectRequest, reason: string, ip: string | null) {
    if (request.status !== 'open') throw new RequestError('not_open')
    if (request.extendedAt) throw new RequestError('already_extended')
    const now = this.now()
    if (now > request.dueAt) throw new RequestError('deadline_passed')
    request.merge({
      extendedAt: now,
      extensionReason: reason,
      dueAt: request.receivedAt.plus({ months: ANSWER_MONTHS + EXTENSION_MONTHS }),
    })
    await request.save()
    await AuditLog.record({
      action: 'privacy.request.extended',
      actor,
      companyId: request.companyId,
      target: { type: 'data_subject_request', id: request.id },
      details: { kind: request.kind, dueAt: request.dueAt.toISODate() },
      ip,
    })
    await queue.dispatch(new DataSubjectRequestMailJob(), {
      requestId: request.id,
      event: 'extended',
    })
  }

  /** Staff close a request with the answer given (an objection: upheld or rejected, with reasons). */
  async close(
    actor: User | null,
    request: DataSubjectRequest,
    facts: { status: 'completed' | 'rejected'; outcome: string; ip: string | null }
  ) {
    if (request.status !== 'open') throw new RequestError('not_open')
    request.merge({
      status: facts.status,
      outcome: facts.outcome,
      handledById: actor?.id ?? null,
      closedAt: this.now(),
    })
    await request.save()
    await AuditLog.record({
      action:
        facts.status === 'completed' ? 'privacy.request.completed' : 'privacy.request.rejected',
      actor,
      companyId: request.companyId,
      target: { type: 'data_subject_request', id: request.id },
      details: { kind: request.kind, late: request.closedAt! > request.dueAt },
      ip: facts.ip,
    })
    await queue.dispatch(new DataSubjectRequestMailJob(), {
      requestId: request.id,
      event: 'closed',
    })
  }

  /** Builds and stores the archive of an access request, then closes it (run by DataExportJob). */
  async prepareExport(requestId: number) {
    const request = await DataSubjectRequest.find(requestId)
    if (!request || request.status !== 'open') return
    if (request.kind !== 'access' || !request.userId) throw new RequestError('not_an_export')
    const user = await User.find(request.userId)
    if (!user) return
    const exporter = new DataExportService()
    exporter.now = this.now
    const { archive, sha256 } = await exporter.build(user)
    const now = this.now()
    await DataExportArchive.create({
      requestId: request.id,
      userId: user.id,
      archive,
      sha256,
      sizeBytes: archive.length,
      createdAt: now,
      expiresAt: now.plus({ days: EXPORT_ARCHIVE_DAYS }),
    })
    await this.close(null, request, {
      status: 'completed',
      outcome: `archive prepared (${archive.length} bytes, sha256 ${sha256}), downloadable until ${now.plus({ days: EXPORT_ARCHIVE_DAYS }).toISODate()}`,
      ip: null,
    })
  }

  /** The user's own archive while it has not expired. */
  async archiveFor(user: User, requestId: number) {
    return DataExportArchive.query()
      .where('request_id', requestId)
      .where('user_id', user.id)
      .first()
      .then((archive) => (archive && archive.expiresAt > this.now() ? archive : null))
  }
}
