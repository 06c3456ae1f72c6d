import app from '@adonisjs/core/services/app'
import { DateTime } from 'luxon'
import type User from '#accounts/models/user'
import Company from '#accounts/models/company'
import AuditLog from '#accounts/services/audit_log'
import type { CallDirection } from '#calls/models/call_record'
import { shortenNumber } from '#calls/services/call_history_service'

/** One running call as the live calls page shows it: numbers shortened, no SDP, no media. */
export interface LiveCallRow {
  uuid: string
  company: string | null
  direction: CallDirection
  emergency: boolean
  carrier: string | null
  caller: string | null
  callee: string | null
  startedAt: DateTime
  answered: boolean
  relayed: { aToB: number; bToA: number }
  /** Loss (%) and jitter (ms) of the audio each side sent us so far; null before any arrived. */
  quality: Record<'caller' | 'callee', { lossPercent: number; jitterMs: number } | null>
}

/**
 * Staff's view of the calls running on this node, and ending one. Staff see numbers shortened
 * by their last three digits: enough to recognise a call on the phone with a customer, not
 * enough to read who called whom.
 */
export default class LiveCallService {
  /** `sort`: in the order they started, or the worst first (most loss, then most jitter so far). */
  async list(sort: 'started' | 'quality' = 'started'): Promise<{
    draining: boolean
    refused: Array<{ resource: string; count: number }>
    calls: LiveCallRow[]
  }> {
    const b2bua = await app.container.make('calls.b2bua')
    const calls = b2bua.calls
    const companyIds = [
      ...new Set(
        calls.map((call) => call.record.companyId).filter((id): id is number => id !== null)
      ),
    ]
    const names = new Map(
      (companyIds.length ? await Company.query().whereIn('id', companyIds) : []).map((company) => [
        company.id,
        company.legalName,
      ])
    )
    const rows: LiveCallRow[] = calls.map(({ uuid, record, session }) => ({
      uuid,
      company: record.companyId ? (names.get(record.companyId) ?? null) : null,
      direction: record.direction,
      emergency: record.emergency,
      carrier: record.carrierName,
      caller: record.callerNumber ? shortenNumber(record.callerNumber) : null,
      callee: record.calleeNumber ? shortenNumber(record.calleeNumber) : null,
      startedAt: DateTime.fromJSDate(session.startedAt, { zone: 'utc' }),
      answered: session.answered,
      relayed: session.relayed,
      quality: session.liveQuality,
    }))
    if (sort === 'quality') {
      const worst = (row: LiveCallRow, key: 'lossPercent' | 'jitterMs') =>
        Math.max(row.quality.caller?.[key] ?? -1, row.quality.callee?.[key] ?? -1)
      rows.sort(
        (a, b) =>
          worst(b, 'lossPercent') - worst(a, 'lossPercent') ||
          worst(b, 'jitterMs') - worst(a, 'jitterMs')
      )
    }
    return {
      draining: b2bua.draining,
      refused: Object.entries(b2bua.refusedForCapacity).map(([resource, count]) => ({
        resource,
        count,
      })),
      calls: rows,
    }
  }

  /**
   * Ends a running call (BYE on both legs, CDR cause ended_by_staff), audited for us and for the
   * customer's admins. False when the call is no longer running on this node.
   */
  async end(uuid: string, actor: User, ip: string | null): Promise<boolean> {
    const b2bua = await app.container.make('calls.b2bua')
    const call = b2bua.calls.find((running) => running.uuid === uuid)
    if (!call || !(await b2bua.end(uuid))) return false
    await AuditLog.record({
      action: 'calls.ended_by_staff',
      actor,
      companyId: call.record.companyId,
      target: { type: 'call', id: uuid },
      details: { direction: call.record.direction, emergency: call.record.emergency },
      ip,
    })
    return true
  }
}
