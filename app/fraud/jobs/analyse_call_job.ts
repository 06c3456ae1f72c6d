import app from '@adonisjs/core/services/app'
import type { Job } from '#core/queue/types'

/** A company's window (AnalyseCall): its traffic, and each call that ended since `endedSince` (ms). */
export interface AnalyseWindowPayload {
  companyId: number
  endedSince: number
}

/** One call: a call:ended announced late, and the jobs nodes from before the windows queue. */
export interface AnalyseOneCallPayload {
  companyId: number
  callId: number
}

export type AnalyseCallPayload = AnalyseWindowPayload | AnalyseOneCallPayload

/**
 * After calls ended (or were refused): the company's recent traffic against its baseline. The name
 * stays the per-call job's: during a rolling upgrade either node runs either payload (an older
 * node reads a window's as a call it cannot find: the traffic signals without the per-call one).
 */
export default class AnalyseCallJob implements Job<AnalyseCallPayload> {
  readonly name = 'fraud.analyse_call'

  async handle(payload: AnalyseCallPayload) {
    const detector = await app.container.make('fraud.detector')
    if ('callId' in payload) await detector.analyseCall(payload.companyId, payload.callId)
    else await detector.analyseCompany(payload.companyId, payload.endedSince)
  }
}
