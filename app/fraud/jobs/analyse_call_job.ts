import app from '@adonisjs/core/services/app'
import type { Job } from '#core/queue/types'

export interface AnalyseCallPayload {
  companyId: number
  callId: number
}

/** After a call ended (or was refused): the company's recent traffic against its baseline. */
export default class AnalyseCallJob implements Job<AnalyseCallPayload> {
  readonly name = 'fraud.analyse_call'

  async handle({ companyId, callId }: AnalyseCallPayload) {
    const detector = await app.container.make('fraud.detector')
    await detector.analyseCall(companyId, callId)
  }
}
