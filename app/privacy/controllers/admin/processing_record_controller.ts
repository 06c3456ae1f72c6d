import type { HttpContext } from '@adonisjs/core/http'
import { processingRecord } from '#privacy/services/processing_record'

/** Staff with privacy.requests.handle: the record of processing activities (Art. 30 GDPR). */
export default class ProcessingRecordController {
  async show({ view, bouncer }: HttpContext) {
    await bouncer.with('InformationRequestPolicy').authorize('handle')
    return view.render('pages/admin/privacy/processing_record', { record: processingRecord() })
  }

  /** The same record as JSON, for the authority on request (Art. 30(4)). */
  async json({ response, bouncer }: HttpContext) {
    await bouncer.with('InformationRequestPolicy').authorize('handle')
    response.attachment('fluffycall-processing-record.json')
    return response.json(processingRecord())
  }
}
