import { DateTime } from 'luxon'
import type User from '#accounts/models/user'
import AuditLog from '#accounts/services/audit_log'
import InformationRequest, { type InformationTopic } from '#privacy/models/information_request'

export interface InformationRequestData {
  requester_name: string
  requester_email: string
  organisation?: string
  topic: string
  message: string
}

/** The queue of requests for further information, handled by staff with the privacy role. */
export default class InformationRequestService {
  async submit(data: InformationRequestData, locale: string) {
    return InformationRequest.create({
      requesterName: data.requester_name,
      requesterEmail: data.requester_email,
      organisation: data.organisation ?? null,
      topic: data.topic as InformationTopic,
      message: data.message,
      locale,
      status: 'open',
    })
  }

  async queue() {
    return InformationRequest.query()
      .orderByRaw("case when status = 'open' then 0 else 1 end")
      .orderBy('created_at', 'desc')
  }

  async markAnswered(request: InformationRequest, actor: User, ip: string) {
    request.status = 'answered'
    request.handledById = actor.id
    request.handledAt = DateTime.utc()
    await request.save()
    // The requester's name and email stay out of the audit log: the queue row is the record.
    await AuditLog.record({
      action: 'privacy.information_request.answered',
      actor,
      companyId: null,
      target: { type: 'information_request', id: request.id },
      ip,
    })
  }
}
