import app from '@adonisjs/core/services/app'
import type { Job } from '#core/queue/types'

export interface DataExport {
  requestId: number
}

/** Prepares the archive of an access request (Art. 15, 20 GDPR) after the response. */
export default class DataExportJob implements Job<DataExport> {
  readonly name = 'privacy.data_export'

  async handle({ requestId }: DataExport) {
    const { default: DataSubjectRequestService } =
      await import('#privacy/services/data_subject_request_service')
    const requests = await app.container.make(DataSubjectRequestService)
    await requests.prepareExport(requestId)
  }
}
