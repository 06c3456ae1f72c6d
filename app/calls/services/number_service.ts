import { inject } from '@adonisjs/core'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import Company from '#accounts/models/company'
import User from '#accounts/models/user'
import AuditLog from '#accounts/services/audit_log'
import CarrierManager from '#calls/carriers/carrier_manager'
import InternalDirectory from '#calls/internal/internal_directory'
import DefaultCallerId from '#calls/models/default_caller_id'
import PhoneNumber from '#calls/models/phone_number'
import { normaliseE164 } from '#calls/services/number_block'
import { sqlTime } from '#core/sql_time'
import { LookupCache } from '#core/caching/lookup_changes'
import { NUMBER_QUARANTINE_MONTHS } from '#config/calls'

/**
 * What every call reads of the numbers (the caller IDs a user may present, the chosen default, who
 * holds a called number), kept between calls until any number or choice is written
 * (#core/caching/lookup_changes watches these tables). Shared rows: read them, never change them.
 */
const lookupTables = ['phone_numbers', 'default_caller_ids']
const presentableRows = new LookupCache<string, PhoneNumber[]>({ tables: lookupTables })
const defaultChoices = new LookupCache<number, DefaultCallerId | null>({ tables: lookupTables })
const numberRows = new LookupCache<string, PhoneNumber | null>({ tables: lookupTables })

export type NumberErrorCode =
  | 'unknown_carrier'
  | 'already_exists'
  | 'not_found'
  | 'assigned'
  | 'not_assigned'
  | 'unknown_company'
  | 'company_terminated'
  | 'region_mismatch'
  | 'user_not_in_company'
  | 'not_a_caller_id'
  | 'quarantined'
  | 'port_out_not_requested'
  | 'port_out_requested'

/** A rule a number change broke; `numbers` names (some of) the numbers concerned for the message. */
export class NumberError extends Error {
  constructor(
    public code: NumberErrorCode,
    public field: string,
    public numbers: string[] = []
  ) {
    super(code)
  }
}

export interface NumberFilters {
  carrier?: string
  companyId?: number
  free?: boolean
  page?: number
}

/** What inbound routing needs to know about a called number. */
export interface NumberOwner {
  id: number
  number: string
  companyId: number | null
  userId: number | null
  carrierName: string
}

interface Actor {
  actor: User | null
  ip: string | null
}

const SAMPLE = 5

/**
 * Phone numbers: staff import them per carrier and hand them to companies; company admins hand
 * them to users and pick each user's default caller ID. A number belongs to at most one company
 * (one row per number, the assignment is a conditional update that fails when the row is taken)
 * and a released number keeps nothing that points at a company or person.
 *
 * Caller IDs: a user may present the numbers assigned to them and the company's numbers that no
 * user holds (shared lines such as the switchboard), never a number a colleague holds.
 */
@inject()
export default class NumberService {
  constructor(protected manager: CarrierManager) {}

  /** The clock (tests inject one). */
  now: () => DateTime = () => DateTime.utc()

  /* ------------------------------------------------------------------ staff */

  async list(filters: NumberFilters, perPage = 50) {
    const query = PhoneNumber.query()
      .select(
        'phone_numbers.*',
        'companies.legal_name as company_name',
        'users.full_name as user_name'
      )
      .leftJoin('companies', 'companies.id', 'phone_numbers.company_id')
      .leftJoin('users', 'users.id', 'phone_numbers.user_id')
      .orderBy('phone_numbers.number')
    if (filters.carrier) query.where('phone_numbers.carrier_name', filters.carrier)
    if (filters.companyId) query.where('phone_numbers.company_id', filters.companyId)
    if (filters.free) query.whereNull('phone_numbers.company_id')
    return query.paginate(Math.max(1, filters.page ?? 1), perPage)
  }

  /** Companies that may receive numbers (the assign form and the list filter). */
  async assignableCompanies() {
    return Company.query()
      .whereNot('status', 'terminated')
      .orderBy('legal_name')
      .select('id', 'legal_name')
  }

  /** Adds a block of numbers at a carrier; all or nothing when one of them exists already. */
  async import(carrierName: string, numbers: string[], { actor, ip }: Actor) {
    if (!this.manager.has(carrierName)) throw new NumberError('unknown_carrier', 'carrier')
    await db.transaction(async (trx) => {
      const existing = await trx
        .from('phone_numbers')
        .whereIn('number', numbers)
        .orderBy('number')
        .select('number')
      if (existing.length)
        throw new NumberError(
          'already_exists',
          'numbers',
          existing.map((row) => row.number)
        )
      const now = sqlTime(DateTime.utc())
      await trx.table('phone_numbers').multiInsert(
        numbers.map((number) => ({
          number,
          carrier_name: carrierName,
          created_at: now,
          updated_at: now,
        }))
      )
      await this.#audit(trx, 'number.imported', numbers, {
        actor,
        ip,
        companyId: null,
        details: { carrier: carrierName },
      })
    })
    return numbers.length
  }

  /** Gives free numbers to a company. Fails as a whole when one is missing or held by any company. */
  async assignToCompany(numbers: string[], companyId: number, { actor, ip }: Actor) {
    const company = await Company.find(companyId)
    if (!company) throw new NumberError('unknown_company', 'company_id')
    if (company.status === 'terminated') throw new NumberError('company_terminated', 'company_id')
    await db.transaction(async (trx) => {
      const rows = await this.#rows(trx, numbers)
      const taken = rows.filter((row) => row.company_id !== null).map((row) => row.number)
      if (taken.length) throw new NumberError('assigned', 'numbers', taken)
      const resting = rows
        .filter((row) => row.quarantined_until && toTime(row.quarantined_until) > this.now())
        .map((row) => row.number)
      if (resting.length) throw new NumberError('quarantined', 'numbers', resting)
      const foreign = rows.filter(
        (row) => this.manager.entry(row.carrier_name)?.region !== company.region
      )
      if (foreign.length)
        throw new NumberError(
          'region_mismatch',
          'company_id',
          foreign.map((row) => row.number)
        )

      const now = sqlTime(this.now())
      // The condition makes a concurrent assignment of the same rows lose instead of overwrite.
      const updated = await trx
        .from('phone_numbers')
        .whereIn(
          'id',
          rows.map((row) => row.id)
        )
        .whereNull('company_id')
        .update({
          company_id: company.id,
          user_id: null,
          assigned_at: now,
          quarantined_until: null,
          updated_at: now,
        })
      if (affected(updated) !== rows.length)
        throw new NumberError('assigned', 'numbers', numbers.slice(0, SAMPLE))
      await this.#audit(trx, 'number.assigned', numbers, {
        actor,
        ip,
        companyId: company.id,
        details: { company: company.id },
      })
    })
  }

  /**
   * Takes numbers back from their company: company, user, assignment time, every default
   * caller ID that points at them and their forwarding rules go, and the number rests in quarantine for
   * NUMBER_QUARANTINE_MONTHS before it can be assigned again. Numbers already free in the block
   * are left as they are.
   */
  async release(numbers: string[], actor: Actor) {
    await db.transaction(async (trx) => {
      const rows = (await this.#rows(trx, numbers)).filter((row) => row.company_id !== null)
      if (!rows.length) throw new NumberError('not_assigned', 'numbers', numbers.slice(0, SAMPLE))
      await this.#release(trx, rows, actor)
    })
  }

  /** A terminated company's numbers go back into the inventory, into quarantine (account end). */
  async releaseForCompany(companyId: number, actor: Actor) {
    return db.transaction(async (trx) => {
      const rows = await trx
        .from('phone_numbers')
        .where('company_id', companyId)
        .select('id', 'number', 'carrier_name', 'company_id')
      if (rows.length) await this.#release(trx, rows, actor)
      return rows.length
    })
  }

  async #release(
    trx: TransactionClientContract,
    rows: Array<{ id: number; number: string; company_id: number | null }>,
    { actor, ip }: Actor
  ) {
    const ids = rows.map((row) => row.id)
    const now = this.now()
    const until = now.plus({ months: NUMBER_QUARANTINE_MONTHS })
    await trx.from('default_caller_ids').whereIn('phone_number_id', ids).delete()
    // A released number forwards nowhere: its next holder starts without the company's rules.
    await trx.from('phone_number_forwardings').whereIn('phone_number_id', ids).delete()
    await trx
      .from('phone_numbers')
      .whereIn('id', ids)
      .update({
        company_id: null,
        user_id: null,
        assigned_at: null,
        quarantined_until: sqlTime(until),
        updated_at: sqlTime(now),
      })
    for (const companyId of new Set(rows.map((row) => row.company_id as number))) {
      const released = rows.filter((row) => row.company_id === companyId).map((row) => row.number)
      await this.#audit(trx, 'number.released', released, {
        actor,
        ip,
        companyId,
        details: { company: companyId, quarantinedUntil: until.toISODate() },
      })
    }
  }

  /**
   * Port-out (staff workflow): the holder moves the number to another provider. Requested: marked
   * (the number stays where it is, and a release keeps it in quarantine so nobody else gets it
   * meanwhile); completed: the number has left us, so it leaves the inventory with its caller IDs,
   * without quarantine. Both audited.
   */
  async requestPortOut(number: string, { actor, ip }: Actor) {
    await db.transaction(async (trx) => {
      const [row] = await this.#rows(trx, [number])
      const full = await trx.from('phone_numbers').where('id', row.id).first()
      if (full.port_out_requested_at)
        throw new NumberError('port_out_requested', 'numbers', [number])
      await trx
        .from('phone_numbers')
        .where('id', row.id)
        .update({ port_out_requested_at: sqlTime(this.now()), updated_at: sqlTime(this.now()) })
      await this.#audit(trx, 'number.port_out_requested', [number], {
        actor,
        ip,
        companyId: row.company_id,
        details: row.company_id ? { company: row.company_id } : undefined,
      })
    })
  }

  async completePortOut(number: string, { actor, ip }: Actor) {
    await db.transaction(async (trx) => {
      const [row] = await this.#rows(trx, [number])
      const full = await trx.from('phone_numbers').where('id', row.id).first()
      if (!full.port_out_requested_at)
        throw new NumberError('port_out_not_requested', 'numbers', [number])
      await trx.from('default_caller_ids').where('phone_number_id', row.id).delete()
      await trx.from('phone_number_forwardings').where('phone_number_id', row.id).delete()
      await trx.from('phone_numbers').where('id', row.id).delete()
      await this.#audit(trx, 'number.port_out_completed', [number], {
        actor,
        ip,
        companyId: row.company_id,
        details: row.company_id ? { company: row.company_id } : undefined,
      })
    })
  }

  /** Removes numbers we no longer hold; only free numbers, all or nothing. */
  async delete(numbers: string[], { actor, ip }: Actor) {
    await db.transaction(async (trx) => {
      const rows = await this.#rows(trx, numbers)
      const taken = rows.filter((row) => row.company_id !== null).map((row) => row.number)
      if (taken.length) throw new NumberError('assigned', 'numbers', taken)
      await trx
        .from('phone_numbers')
        .whereIn(
          'id',
          rows.map((row) => row.id)
        )
        .whereNull('company_id')
        .delete()
      await this.#audit(trx, 'number.deleted', numbers, { actor, ip, companyId: null })
    })
  }

  /* ------------------------------------------------------------------ company admins */

  async companyNumbers(company: Company) {
    return PhoneNumber.query().where('company_id', company.id).orderBy('number')
  }

  /** Gives one of the company's numbers to one of its users (or back to the company with null). */
  async assignUser(
    company: Company,
    numberId: number,
    userId: number | null,
    { actor, ip }: Actor
  ) {
    const number = await PhoneNumber.query()
      .where('id', numberId)
      .where('company_id', company.id)
      .first()
    if (!number) throw new NumberError('not_found', 'number_id')
    const user = userId === null ? null : await this.#companyUser(company, userId)
    await db.transaction(async (trx) => {
      number.useTransaction(trx)
      number.userId = user?.id ?? null
      await number.save()
      if (user) {
        // Held by one user now: colleagues may no longer present it, so their default goes.
        await trx
          .from('default_caller_ids')
          .where('phone_number_id', number.id)
          .whereNot('user_id', user.id)
          .delete()
      }
      await AuditLog.record(
        {
          action: 'number.user_assigned',
          actor,
          companyId: company.id,
          target: { type: 'phone_number', id: number.number },
          details: { user: user?.id ?? null },
          ip,
        },
        { client: trx }
      )
    })
  }

  /** Chooses a user's default caller ID among the numbers that user may present; null clears it. */
  async setDefaultCallerId(
    company: Company,
    userId: number,
    numberId: number | null,
    { actor, ip }: Actor
  ) {
    const user = await this.#companyUser(company, userId)
    let number: PhoneNumber | null = null
    if (numberId !== null) {
      number = await PhoneNumber.find(numberId)
      if (
        !number ||
        !(await this.#presentable(user)).some((candidate) => candidate.id === number!.id)
      ) {
        throw new NumberError('not_a_caller_id', 'phone_number_id')
      }
    }
    await db.transaction(async (trx) => {
      await trx.from('default_caller_ids').where('user_id', user.id).delete()
      if (number)
        await DefaultCallerId.create({ userId: user.id, phoneNumberId: number.id }, { client: trx })
      await AuditLog.record(
        {
          action: 'number.default_caller_id.changed',
          actor,
          companyId: company.id,
          target: { type: 'user', id: user.id },
          details: { number: number?.number ?? null },
          ip,
        },
        { client: trx }
      )
    })
  }

  /**
   * The company page: its numbers, its active users, and per user the numbers they may present
   * (own first, then shared), their chosen default and what "automatic" falls back to.
   */
  async companyOverview(company: Company) {
    const numbers = await this.companyNumbers(company)
    const users = await User.query()
      .where('company_id', company.id)
      .whereNull('disabled_at')
      .orderBy('full_name')
    const choices = await DefaultCallerId.query().whereIn(
      'user_id',
      users.map((user) => user.id)
    )
    const chosen = new Map(choices.map((choice) => [choice.userId, choice.phoneNumberId]))
    const callerIds = users.map((user) => {
      const options = presentableOf(user, numbers)
      return {
        user,
        options,
        chosenId: chosen.get(user.id) ?? null,
        automatic: options[0]?.number ?? null,
      }
    })
    return { numbers, users, callerIds }
  }

  /* ------------------------------------------------------------------ for the B2BUA */

  /** Inbound: who holds the called number. Accepts E.164 with or without "+"; null when we do not hold it. */
  async findByNumber(e164: string): Promise<NumberOwner | null> {
    const number = normaliseE164(e164)
    if (!number) return null
    const row = await numberRows.get(number, () => PhoneNumber.findBy('number', number))
    if (!row) return null
    return {
      id: row.id,
      number: row.number,
      companyId: row.companyId,
      userId: row.userId,
      carrierName: row.carrierName,
    }
  }

  /**
   * The numbers a user may present as caller ID: their own numbers first, then the company's
   * shared ones (held by no user), each in number order. Empty for staff and users of no company.
   */
  async callerIdsFor(user: User): Promise<string[]> {
    return (await this.#presentable(user)).map((row) => row.number)
  }

  /**
   * The chosen default when the user may still present it; else the user's own number (assigned
   * to them, or their direct-dial number in the company's block); else the first shared one.
   */
  async defaultCallerId(user: User): Promise<string | null> {
    const presentable = await this.#presentable(user)
    const choice = await defaultChoices.get(user.id, () =>
      DefaultCallerId.findBy('user_id', user.id)
    )
    const chosen = choice ? presentable.find((row) => row.id === choice.phoneNumberId) : undefined
    if (chosen) return chosen.number
    if (presentable[0]?.userId === user.id) return presentable[0].number
    const direct = await new InternalDirectory().directDialNumber(user)
    if (direct && presentable.some((row) => row.number === direct)) return direct
    return presentable[0]?.number ?? null
  }

  async #presentable(user: User) {
    if (user.companyId === null) return []
    const companyId = user.companyId
    const rows = await presentableRows.get(`${companyId}:${user.id}`, () =>
      PhoneNumber.query()
        .where('company_id', companyId)
        .where((query) => query.where('user_id', user.id).orWhereNull('user_id'))
        .orderBy('number')
    )
    return presentableOf(user, rows)
  }

  async #companyUser(company: Company, userId: number) {
    const user = await User.query()
      .where('id', userId)
      .where('company_id', company.id)
      .where('is_staff', false)
      .first()
    if (!user) throw new NumberError('user_not_in_company', 'user_id')
    return user
  }

  /** The rows of a block; every number must exist. */
  async #rows(trx: TransactionClientContract, numbers: string[]) {
    const rows: Array<{
      id: number
      number: string
      carrier_name: string
      company_id: number | null
      quarantined_until: unknown
    }> = await trx
      .from('phone_numbers')
      .whereIn('number', numbers)
      .select('id', 'number', 'carrier_name', 'company_id', 'quarantined_until')
    if (rows.length !== numbers.length) {
      const found = new Set(rows.map((row) => row.number))
      throw new NumberError(
        'not_found',
        'numbers',
        numbers.filter((number) => !found.has(number))
      )
    }
    return rows
  }

  /** One audit entry per block: its size and first and last number, not a thousand lines. */
  async #audit(
    trx: TransactionClientContract,
    action: string,
    numbers: string[],
    entry: Actor & { companyId: number | null; details?: Record<string, unknown> }
  ) {
    const sorted = [...numbers].sort()
    await AuditLog.record(
      {
        action,
        actor: entry.actor,
        companyId: entry.companyId,
        target: {
          type: 'phone_number',
          id: sorted.length > 1 ? `${sorted[0]}..${sorted.at(-1)}` : sorted[0],
        },
        details: { count: numbers.length, first: sorted[0], last: sorted.at(-1), ...entry.details },
        ip: entry.ip,
      },
      { client: trx }
    )
  }
}

/** The rule for caller IDs: the user's own numbers, then the company's shared ones (rows in number order). */
function presentableOf(user: User, companyNumbers: PhoneNumber[]) {
  return [
    ...companyNumbers.filter((row) => row.userId === user.id),
    ...companyNumbers.filter((row) => row.userId === null),
  ]
}

/** Affected rows of an update: a number on SQLite and PostgreSQL, an array on some drivers. */
function affected(result: unknown) {
  return Array.isArray(result) ? Number(result[0]) : Number(result)
}

/** A timestamp as the driver returns it (Date on PostgreSQL, text on SQLite). */
function toTime(value: unknown): DateTime {
  if (value instanceof Date) return DateTime.fromJSDate(value, { zone: 'utc' })
  const text = String(value)
  const sql = DateTime.fromSQL(text, { zone: 'utc' })
  return sql.isValid ? sql : DateTime.fromISO(text, { zone: 'utc' })
}
