import { DateTime } from 'luxon'
import type { ModelPaginatorContract } from '@adonisjs/lucid/types/model'
import CallRecord, { type CallDirection } from '#calls/models/call_record'
import { type QualityLabel, qualityLabel } from '#calls/b2bua/call_quality'
import { shortenNumber } from '#calls/services/call_history_service'
import { sqlTime } from '#core/sql_time'

/** Days of ended calls the quality list looks back on. */
export const QUALITY_REPORT_DAYS = 7
/** Below this MOS a call is listed (fair and poor: G.107 Annex B, as the call history labels them). */
export const QUALITY_REPORT_BELOW_MOS = 4
export const QUALITY_REPORT_PAGE_SIZE = 50

interface SideFigures {
  lossPercent: number | null
  jitterMs: number | null
  rttMs: number | null
  mos: number | null
}

/** One ended call as staff see it on the quality list: numbers shortened as on the live page. */
export interface QualityReportRow {
  id: number
  company: string | null
  direction: CallDirection
  carrier: string | null
  caller: string | null
  callee: string | null
  endedAt: DateTime | null
  durationSeconds: number | null
  mos: number
  label: QualityLabel
  sides: Record<'caller' | 'callee', SideFigures>
}

/**
 * Staff's list of the ended calls whose audio was bad (issue 18: staff see bad calls first): the
 * last QUALITY_REPORT_DAYS days, the worse side's MOS below QUALITY_REPORT_BELOW_MOS, worst first.
 * Calls whose audio was never measured (unanswered, no media) are not listed.
 */
export default class CallQualityReport {
  now: () => DateTime = () => DateTime.utc()

  async page(page: number): Promise<{
    paginator: ModelPaginatorContract<CallRecord>
    rows: QualityReportRow[]
    days: number
  }> {
    const since = this.now().minus({ days: QUALITY_REPORT_DAYS })
    const paginator = await CallRecord.query()
      .whereNotNull('ended_at')
      .where('ended_at', '>=', sqlTime(since))
      .whereNotNull('quality_mos')
      .where('quality_mos', '<', QUALITY_REPORT_BELOW_MOS)
      .preload('company')
      .orderBy('quality_mos', 'asc')
      .orderBy('ended_at', 'desc')
      .orderBy('id', 'desc')
      .paginate(page, QUALITY_REPORT_PAGE_SIZE)
    const rows = paginator.all().map((record) => ({
      id: record.id,
      company: record.company?.legalName ?? null,
      direction: record.direction,
      carrier: record.carrierName,
      caller:
        record.callerNumber && !record.callerWithheld ? shortenNumber(record.callerNumber) : null,
      callee: record.calleeNumber ? shortenNumber(record.calleeNumber) : null,
      endedAt: record.endedAt,
      durationSeconds: record.durationSeconds,
      mos: record.qualityMos!,
      label: qualityLabel(record.qualityMos!),
      sides: {
        caller: {
          lossPercent: record.callerLossPercent,
          jitterMs: record.callerJitterMs,
          rttMs: record.callerRttMs,
          mos: record.callerMos,
        },
        callee: {
          lossPercent: record.calleeLossPercent,
          jitterMs: record.calleeJitterMs,
          rttMs: record.calleeRttMs,
          mos: record.calleeMos,
        },
      },
    }))
    return { paginator, rows, days: QUALITY_REPORT_DAYS }
  }
}
