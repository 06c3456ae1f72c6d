import { DateTime } from 'luxon'
import app from '@adonisjs/core/services/app'
import type User from '#accounts/models/user'
import AuditEntry from '#accounts/models/audit_entry'
import Company from '#accounts/models/company'
import AuditLog from '#accounts/services/audit_log'
import { sqlTime } from '#core/sql_time'
import SipDevice from '#calls/models/sip_device'
import SipDeviceAddress from '#calls/models/sip_device_address'
import { AuthFailureLimiter, type LockScope } from '#sip'
import { registrarSettings } from '#calls/signalling/registrar_settings'

/** A lock that keeps one of a company's phones out: its username, or an address it registered from. */
export interface DeviceLock {
  scope: LockScope
  /** The username, or the source address. */
  subject: string
  /** The company's phones the lock keeps out. */
  devices: Array<Pick<SipDevice, 'id' | 'label' | 'sipUsername'>>
}

/** A lock as staff see it, from the audit entry that recorded it. */
export interface ActiveLock {
  scope: LockScope
  subject: string
  companyId: number | null
  companyName: string | null
  lockedAt: DateTime
  lockedUntil: DateTime
}

export interface LiftContext {
  actor: User
  ip?: string | null
}

/**
 * The brute-force locks of SIP logins for people: which of a company's phones a lock keeps out
 * (devices page), which locks are active (staff), and lifting one (audited). The locks themselves
 * live in the shared counters (AuthFailureLimiter over the container's 'counters'), where the
 * digest server reads them.
 */
export default class SipLockService {
  #limiter: AuthFailureLimiter | undefined

  /** Locks that keep out one of the company's live phones; `userId` narrows to one user's phones. */
  async forCompany(companyId: number, userId?: number): Promise<DeviceLock[]> {
    const limiter = await this.#limiterInstance()
    const query = SipDevice.query()
      .where('company_id', companyId)
      .whereNull('revoked_at')
      .orderBy('id')
    if (userId !== undefined) query.where('user_id', userId)
    const devices = await query
    const locks = new Map<string, DeviceLock>()
    const add = (scope: LockScope, subject: string, device: SipDevice) => {
      const key = `${scope}:${subject}`
      const lock = locks.get(key) ?? { scope, subject, devices: [] }
      if (!lock.devices.some((known) => known.id === device.id)) {
        lock.devices.push({ id: device.id, label: device.label, sipUsername: device.sipUsername })
      }
      locks.set(key, lock)
    }
    for (const device of devices) {
      if (await limiter.isScopeLocked('username', device.sipUsername))
        add('username', device.sipUsername, device)
    }
    const addresses = devices.length
      ? await SipDeviceAddress.query().whereIn(
          'sip_device_id',
          devices.map((device) => device.id)
        )
      : []
    const lockedAddresses = new Map<string, boolean>()
    for (const row of addresses) {
      if (!lockedAddresses.has(row.address)) {
        lockedAddresses.set(row.address, await limiter.isScopeLocked('source', row.address))
      }
      if (lockedAddresses.get(row.address))
        add(
          'source',
          row.address,
          devices.find((device) => device.id === row.sipDeviceId)!
        )
    }
    return [...locks.values()]
  }

  /**
   * A company admin lifts a lock that keeps out one of the company's phones; false (nothing
   * lifted) when the lock concerns none of them or is not active.
   */
  async liftForCompany(
    companyId: number,
    scope: LockScope,
    subject: string,
    context: LiftContext
  ): Promise<boolean> {
    const lock = (await this.forCompany(companyId)).find(
      (found) => found.scope === scope && found.subject === subject
    )
    if (!lock) return false
    await this.#lift(
      lock.scope,
      lock.subject,
      companyId,
      context,
      lock.devices.length === 1 ? lock.devices[0].id : undefined
    )
    return true
  }

  /** Staff: the active locks, newest first, with the company of the phone they concern where known. */
  async active(): Promise<ActiveLock[]> {
    const limiter = await this.#limiterInstance()
    const { lockSeconds } = registrarSettings().lockout
    const since = DateTime.utc().minus({ seconds: lockSeconds })
    const entries = await AuditEntry.query()
      .where('action', 'sip.auth.locked')
      .where('created_at', '>=', sqlTime(since))
      .orderBy('id', 'desc')
      .limit(500)
    const locks = new Map<string, ActiveLock>()
    for (const entry of entries) {
      const scope = entry.details?.scope as LockScope | undefined
      const subject =
        scope === 'username' ? String(entry.details?.username ?? '') : (entry.ip ?? '')
      if ((scope !== 'username' && scope !== 'source') || !subject) continue
      const key = `${scope}:${subject}`
      if (locks.has(key) || !(await limiter.isScopeLocked(scope, subject))) continue
      locks.set(key, {
        scope,
        subject,
        companyId: entry.companyId,
        companyName: null,
        lockedAt: entry.createdAt,
        lockedUntil: entry.createdAt.plus({ seconds: lockSeconds }),
      })
    }
    const companyIds = [
      ...new Set([...locks.values()].flatMap((lock) => (lock.companyId ? [lock.companyId] : []))),
    ]
    const companies = companyIds.length ? await Company.query().whereIn('id', companyIds) : []
    for (const lock of locks.values()) {
      const company = companies.find((candidate) => candidate.id === lock.companyId)
      lock.companyName = company ? `${company.legalName} ${company.legalForm}` : null
    }
    return [...locks.values()]
  }

  /** Staff lift any active lock; false when it is not active (already over or lifted). */
  async lift(scope: LockScope, subject: string, context: LiftContext): Promise<boolean> {
    const limiter = await this.#limiterInstance()
    if (!(await limiter.isScopeLocked(scope, subject))) return false
    const lock = (await this.active()).find(
      (found) => found.scope === scope && found.subject === subject
    )
    await this.#lift(scope, subject, lock?.companyId ?? null, context)
    return true
  }

  async #lift(
    scope: LockScope,
    subject: string,
    companyId: number | null,
    context: LiftContext,
    deviceId?: number
  ) {
    await (await this.#limiterInstance()).lift(scope, subject)
    await AuditLog.record({
      action: 'sip.auth.unlocked',
      actor: context.actor,
      companyId,
      ...(deviceId !== undefined ? { target: { type: 'sip_device', id: deviceId } } : {}),
      details: scope === 'username' ? { scope, username: subject } : { scope, address: subject },
      ip: context.ip ?? null,
    })
  }

  async #limiterInstance(): Promise<AuthFailureLimiter> {
    this.#limiter ??= new AuthFailureLimiter(
      await app.container.make('counters'),
      registrarSettings().lockout
    )
    return this.#limiter
  }
}
