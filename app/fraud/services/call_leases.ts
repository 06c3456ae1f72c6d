import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import { sqlTime } from '#core/sql_time'
import FraudLimiter from '#fraud/services/fraud_limiter'

export interface Lease {
  companyId: number
  userId: number | null
  deviceId: number | null
}

export function leaseSubjects(lease: Lease) {
  return [
    `company:${lease.companyId}`,
    ...(lease.userId !== null ? [`user:${lease.userId}`] : []),
    ...(lease.deviceId !== null ? [`device:${lease.deviceId}`] : []),
  ]
}

function deletedRows(deleted: unknown) {
  return Number(Array.isArray(deleted) ? deleted[0] : deleted)
}

/** Where the running calls' leases are kept: this table (with counters), or Redis alone. */
export interface ConcurrentCallLeases {
  readonly kind: 'table' | 'redis'
  /** After an allowed decision (the table's row). */
  taken(callUuid: string, lease: Lease, leaseKeys: string[]): void
  /** Resolves once the leases taken so far are stored (tests, shutdown). */
  written(): Promise<void>
  /** call:ended, on whichever node; idempotent per call. */
  release(callUuid: string): Promise<void>
  /** Every minute: the leases of calls whose end was never seen stop counting. */
  rebuild(leaseSeconds: number): Promise<Map<string, number>>
  /** Running calls of a subject ("company:4"). */
  held(subject: string): Promise<number>
}

/**
 * The concurrent-call leases of running calls without Redis. Counted on the shared counters for the decision and
 * written to fraud_call_leases (after the decision, off the call path) so that any node can release
 * a lease at call:ended, and the counters can be rebuilt from the calls still running.
 */
export default class CallLeases implements ConcurrentCallLeases {
  readonly kind = 'table' as const
  /** Leases taken here whose row may not be written yet: released from memory first. */
  #local = new Map<string, string[]>()
  /** Subjects this process counted since the last rebuild (their counters may need a reset to 0). */
  #touched = new Set<string>()
  /** Leases taken here whose row could not be written: only the memory entry can release them. */
  #unwritten = new Set<string>()
  /** Lease rows being written. */
  #writes = new Set<Promise<unknown>>()

  constructor(
    private limiter: FraudLimiter,
    private onError: (error: unknown) => void = () => {}
  ) {}

  held(subject: string) {
    return this.limiter.held(subject)
  }

  taken(callUuid: string, lease: Lease, leaseKeys: string[]) {
    this.#local.set(callUuid, leaseKeys)
    for (const subject of leaseSubjects(lease)) this.#touched.add(subject)
    const write = db
      .table('fraud_call_leases')
      .insert({
        call_uuid: callUuid,
        company_id: lease.companyId,
        user_id: lease.userId,
        sip_device_id: lease.deviceId,
        created_at: sqlTime(DateTime.utc()),
      })
      .catch((error) => {
        this.#unwritten.add(callUuid)
        this.onError(error)
      })
      .finally(() => this.#writes.delete(write))
    this.#writes.add(write)
  }

  /** Resolves once the lease rows taken so far are written (tests, shutdown). */
  async written() {
    await Promise.all([...this.#writes])
  }

  /**
   * call:ended, on whichever node: the lease row goes and its counters drop by one. Idempotent per
   * call: whoever deletes the row (this node or another, a repeated call:ended) releases the
   * counters, nobody else; a lease whose row was never written is released from memory once.
   */
  async release(callUuid: string) {
    await this.written()
    const local = this.#local.get(callUuid)
    this.#local.delete(callUuid)
    if (local) {
      const unwritten = this.#unwritten.delete(callUuid)
      const deleted = await db.from('fraud_call_leases').where('call_uuid', callUuid).delete()
      if (unwritten || deletedRows(deleted) > 0) await this.limiter.release(local)
      return
    }
    const row = await db.from('fraud_call_leases').where('call_uuid', callUuid).first()
    if (!row) return
    const deleted = await db.from('fraud_call_leases').where('call_uuid', callUuid).delete()
    if (deletedRows(deleted) < 1) return
    const subjects = leaseSubjects({
      companyId: row.company_id,
      userId: row.user_id,
      deviceId: row.sip_device_id,
    })
    await this.limiter.release(subjects.map((subject) => FraudLimiter.leaseKey(subject)))
  }

  /**
   * Sets every lease counter to the calls still running: leases older than `leaseSeconds` (a call
   * whose end was never seen) are dropped, the others counted per company, user and device.
   */
  async rebuild(leaseSeconds: number, now = DateTime.utc()) {
    await db
      .from('fraud_call_leases')
      .where('created_at', '<', sqlTime(now.minus({ seconds: leaseSeconds })))
      .delete()
    const rows = await db.from('fraud_call_leases').select('company_id', 'user_id', 'sip_device_id')
    const running = new Map<string, number>()
    for (const row of rows) {
      for (const subject of leaseSubjects({
        companyId: row.company_id,
        userId: row.user_id,
        deviceId: row.sip_device_id,
      })) {
        running.set(subject, (running.get(subject) ?? 0) + 1)
      }
    }
    for (const subject of this.#touched) if (!running.has(subject)) running.set(subject, 0)
    this.#touched = new Set([...running.keys()].filter((subject) => running.get(subject)! > 0))
    for (const [subject, count] of running) await this.limiter.setLeases(subject, count)
    return running
  }
}
