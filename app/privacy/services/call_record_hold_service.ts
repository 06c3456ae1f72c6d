import { DateTime } from 'luxon'
import type User from '#accounts/models/user'
import AuditLog from '#accounts/services/audit_log'
import CallRecordHold from '#privacy/models/call_record_hold'

const ZONE = 'Europe/Berlin'

/**
 * Holds on call records for billing disputes (TDDDG § 10), placed and released by staff, audited.
 * Calls' retention job reads the open ones through the core seam (#core/call_record_holds).
 */
export default class CallRecordHoldService {
  now: () => DateTime = () => DateTime.utc()

  /** The hold covers whole days in German time, from the first to the last disputed day. */
  async place(
    actor: User,
    facts: { companyId: number; fromDay: string; untilDay: string; reason: string },
    ip: string | null
  ) {
    const from = DateTime.fromISO(facts.fromDay, { zone: ZONE }).startOf('day')
    const until = DateTime.fromISO(facts.untilDay, { zone: ZONE }).endOf('day')
    const hold = await CallRecordHold.create({
      companyId: facts.companyId,
      fromAt: from.toUTC(),
      untilAt: until.toUTC(),
      reason: facts.reason,
      placedById: actor.id,
      placedAt: this.now(),
      releasedById: null,
      releasedAt: null,
    })
    await AuditLog.record({
      action: 'privacy.call_record_hold.placed',
      actor,
      companyId: facts.companyId,
      target: { type: 'call_record_hold', id: hold.id },
      details: { from: facts.fromDay, until: facts.untilDay },
      ip,
    })
    return hold
  }

  async release(actor: User, hold: CallRecordHold, ip: string | null) {
    if (hold.releasedAt) return false
    hold.merge({ releasedAt: this.now(), releasedById: actor.id })
    await hold.save()
    await AuditLog.record({
      action: 'privacy.call_record_hold.released',
      actor,
      companyId: hold.companyId,
      target: { type: 'call_record_hold', id: hold.id },
      ip,
    })
    return true
  }

  /** What the core seam hands to calls' retention job. */
  static async openHolds() {
    return (await CallRecordHold.query().whereNull('released_at')).map((hold) => ({
      companyId: hold.companyId,
      from: hold.fromAt,
      until: hold.untilAt,
    }))
  }
}
