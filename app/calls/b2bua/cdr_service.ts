import { randomUUID } from 'node:crypto'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import emitter from '@adonisjs/core/services/emitter'
import CallRecord, {
  type CallDirection,
  type DisconnectCause,
  type HungUpBy,
} from '#calls/models/call_record'
import type { LegEncryption } from '#calls/b2bua/media_security'
import type { SideQuality } from '#calls/b2bua/call_quality'
import { cdrEndContributor, type CdrEndWrite } from '#calls/b2bua/cdr_end_writes'
import { sqlColumnTime } from '#core/sql_time'
import { DirectStatement } from '#core/direct_statements'
import '#calls/events'

export interface CdrStart {
  companyId: number | null
  userId: number | null
  /** The called colleague of an internal call. */
  calleeUserId?: number | null
  direction: CallDirection
  emergency: boolean
  callerNumber: string | null
  calleeNumber: string | null
  callerWithheld: boolean
  region: string | null
  nodeId: string
  /** The outbound call of an external forwarding: the uuid of the call it continues. */
  forwardedFromUuid?: string | null
}

export interface CdrEnd {
  cause: DisconnectCause
  sipStatus: number | null
  hungUpBy: HungUpBy | null
}

/**
 * A write of another table that goes with a CDR's answer or end (the call's kept dialogs, made by
 * their store): on PostgreSQL in the same statement (a data-modifying CTE), so both are written
 * or neither; on SQLite right after it (see `#update`). The call logic hands it over unread.
 */
export interface CdrCompanionWrite {
  /** One INSERT, UPDATE or DELETE with `?` bindings. */
  sql: string
  bindings: unknown[]
}

type CdrAttribute = keyof CallRecord & string

/** The CDR's columns the start writes (the rest start as the table's defaults: null, false). */
const START_ATTRIBUTES = [
  'uuid',
  'companyId',
  'userId',
  'calleeUserId',
  'direction',
  'emergency',
  'callerNumber',
  'calleeNumber',
  'callerWithheld',
  'region',
  'nodeId',
  'forwardedFromUuid',
  'startedAt',
  'endToEndEncrypted',
] as const satisfies CdrAttribute[]

/** What may have changed on the record by the answer: the answer, the carrier, the encryption. */
const ANSWER_ATTRIBUTES = [
  'answeredAt',
  'carrierName',
  'callerSignallingEncrypted',
  'callerMediaEncrypted',
  'calleeSignallingEncrypted',
  'calleeMediaEncrypted',
] as const satisfies CdrAttribute[]

/** Everything this service sets on a record after its start, written by the end. */
const END_ATTRIBUTES = [
  ...ANSWER_ATTRIBUTES,
  'endedAt',
  'durationSeconds',
  'sipStatus',
  'disconnectCause',
  'hungUpBy',
  'forwardedTo',
  'forwardReason',
  'endToEndEncrypted',
  'callerLossPercent',
  'callerJitterMs',
  'callerRttMs',
  'callerMos',
  'calleeLossPercent',
  'calleeJitterMs',
  'calleeRttMs',
  'calleeMos',
  'qualityMos',
] as const satisfies CdrAttribute[]

const columnOf = (attribute: CdrAttribute) => CallRecord.$getColumn(attribute)!.columnName

/** The SQL of the three writes, made once (issue 17: no query builder, no dirty diff per call). */
const INSERT_SQL = `insert into ${CallRecord.table} (${START_ATTRIBUTES.map(columnOf).join(', ')}) values (${START_ATTRIBUTES.map(() => '?').join(', ')}) returning id`
const ANSWER_SET = ANSWER_ATTRIBUTES.map((attribute) => `${columnOf(attribute)} = ?`).join(', ')
const END_SET = END_ATTRIBUTES.map((attribute) => `${columnOf(attribute)} = ?`).join(', ')

/**
 * Writes the call detail records: a row when the attempt starts, the answer time when it is
 * answered, the rest when it ends. These are the only durable writes of a call (never per packet).
 */
export default class CdrService {
  /**
   * Call events go out without holding up the call; a listener that fails (billing, fraud) is
   * logged here, never left as an unhandled rejection that could take the process down.
   */
  #announce(event: 'call:attempted' | 'call:answered' | 'call:ended', record: CallRecord) {
    emitter.emit(event, { record }).catch(async (error) => {
      const { default: logger } = await import('@adonisjs/core/services/logger')
      logger.error({ err: error, event, callRecordId: record.id }, 'a call event listener failed')
    })
  }

  /**
   * The row, inserted by SQL of our own, and the record as `CallRecord.create` would have left it
   * (its attributes, persisted, nothing dirty) without Lucid's insert path per call (issue 17).
   */
  async start(data: CdrStart): Promise<CallRecord> {
    const attributes: Partial<CallRecord> = {
      ...data,
      uuid: randomUUID(),
      startedAt: DateTime.utc(),
      answeredAt: null,
      endedAt: null,
      costCents: null,
      endToEndEncrypted: false,
    }
    const format = db.connection().dialect.dateTimeFormat
    const { rows } = await statement(INSERT_SQL).run(
      START_ATTRIBUTES.map((attribute) => bindable(attributes[attribute], format))
    )
    attributes.id = Number(rows[0].id)
    const record = new CallRecord()
    record.$attributes = attributes
    record.$original = { ...attributes }
    record.$isPersisted = true
    this.#announce('call:attempted', record)
    return record
  }

  /**
   * The carrier the call goes to (the last one tried). Set on the record only: the answer or the
   * end writes it with the rest (issue 17: one write fewer per call). A node that dies before
   * either leaves it to the sweep, which closes the record without it.
   */
  async carrier(record: CallRecord, carrierName: string) {
    setColumns(record, { carrierName })
  }

  /**
   * The call was forwarded (the first forwarding is what its history shows) or transferred
   * (reason 'transfer': the last transfer wins).
   */
  async forwarded(record: CallRecord, to: string | null, reason: string) {
    if (record.forwardReason && reason !== 'transfer') return
    record.forwardedTo = to
    record.forwardReason = reason
    await record.save()
  }

  /**
   * Whether a side's signalling and media were encrypted. Set on the record only: the answer or
   * the end writes it, so a call costs no extra write (a refusal before either leaves it null).
   */
  encryption(record: CallRecord, side: 'caller' | 'callee', encryption: LegEncryption) {
    if (side === 'caller') {
      setColumns(record, {
        callerSignallingEncrypted: encryption.signalling,
        callerMediaEncrypted: encryption.media,
      })
    } else {
      setColumns(record, {
        calleeSignallingEncrypted: encryption.signalling,
        calleeMediaEncrypted: encryption.media,
      })
    }
  }

  /**
   * Both browsers confirmed their keys (issue 22). Set on the record only: the end writes it, so it
   * costs no extra write. Never set back: a call transferred to a SIP phone later was end-to-end
   * encrypted for a part.
   */
  endToEndEncrypted(record: CallRecord) {
    setColumns(record, { endToEndEncrypted: true })
  }

  /**
   * The call's quality per side (the audio each side sent, as we received it). Set on the record
   * only: the end writes it, so it costs no extra write.
   */
  quality(record: CallRecord, sides: { caller: SideQuality | null; callee: SideQuality | null }) {
    const { caller, callee } = sides
    const known = [caller?.mos, callee?.mos].filter((mos) => mos !== undefined)
    setColumns(record, {
      callerLossPercent: caller?.lossPercent ?? null,
      callerJitterMs: caller?.jitterMs ?? null,
      callerRttMs: caller?.rttMs ?? null,
      callerMos: caller?.mos ?? null,
      calleeLossPercent: callee?.lossPercent ?? null,
      calleeJitterMs: callee?.jitterMs ?? null,
      calleeRttMs: callee?.rttMs ?? null,
      calleeMos: callee?.mos ?? null,
      qualityMos: known.length ? Math.min(...known) : null,
    })
  }

  /**
   * The answer, written (with `companion`, the call's kept dialogs, when given) before it is
   * announced; the caller's 200 OK waits for it.
   */
  async answered(record: CallRecord, companion?: CdrCompanionWrite) {
    if (record.answeredAt) {
      if (companion) await statement(companion.sql).run(companion.bindings)
      return
    }
    setColumns(record, { answeredAt: DateTime.utc() })
    await this.#update(record, ANSWER_SET, ANSWER_ATTRIBUTES, null, companion)
    this.#announce('call:answered', record)
  }

  /**
   * Completes the record once; later calls (a second BYE, a crash recovery race) change nothing
   * on it. `companion` (the call's kept dialogs going) is written with the end, and on its own
   * when the record was complete already. `endedAt`: when the call ended (now by default; a kept
   * end written late gives its own). A failed write leaves the record open, in memory as in the
   * table.
   */
  async end(
    record: CallRecord,
    end: CdrEnd,
    companion?: CdrCompanionWrite,
    endedAt: DateTime = DateTime.utc()
  ) {
    if (record.endedAt) {
      if (companion) await statement(companion.sql).run(companion.bindings)
      return
    }
    try {
      await this.#end(record, end, companion, endedAt)
    } catch (error) {
      // Not written: the record stays open, as the table has it (a later end may try again).
      record.endedAt = null
      throw error
    }
  }

  async #end(
    record: CallRecord,
    end: CdrEnd,
    companion: CdrCompanionWrite | undefined,
    endedAt: DateTime
  ) {
    const answeredAt = record.$attributes.answeredAt as DateTime | null
    setColumns(record, {
      endedAt,
      sipStatus: end.sipStatus,
      disconnectCause: end.cause,
      hungUpBy: end.hungUpBy,
      // (the milliseconds between the two instants, as luxon's diff would give them, without its
      // Duration and unit normalisation: issue 17, 2 % of the server's CPU per call)
      durationSeconds: answeredAt
        ? Math.max(0, Math.round((endedAt.toMillis() - answeredAt.toMillis()) / 1000))
        : 0,
    })
    const write = await this.#endWrite(record)
    const written = await this.#update(record, END_SET, END_ATTRIBUTES, write, companion)
    // Rated by another writer first: the end alone, as before (the companion went with the first)
    if (write && !written) await this.#update(record, END_SET, END_ATTRIBUTES, null)
    else if (write) write.written()
    this.#announce('call:ended', record)
  }

  /** What another module writes with the end (the rating); none when it fails: it writes later. */
  async #endWrite(record: CallRecord): Promise<CdrEndWrite | null> {
    const contributor = cdrEndContributor()
    if (!contributor) return null
    try {
      return await contributor(record)
    } catch (error) {
      const { default: logger } = await import('@adonisjs/core/services/logger')
      logger.warn({ err: error, callRecordId: record.id }, 'a CDR end contribution failed')
      return null
    }
  }

  /**
   * Writes `attributes` of the record (as Lucid would prepare them) and the contribution's columns
   * in one UPDATE, only while the contribution's column is null; the companion goes in the same
   * statement on PostgreSQL, right after it on SQLite. False when the row was not updated
   * (another writer set the contribution's column first; the companion ran all the same).
   */
  async #update(
    record: CallRecord,
    set: string,
    attributes: readonly CdrAttribute[],
    write: CdrEndWrite | null,
    companion?: CdrCompanionWrite
  ): Promise<boolean> {
    const client = db.connection()
    const format = client.dialect.dateTimeFormat
    const values = record.$attributes
    const bindings: unknown[] = attributes.map((attribute) => bindable(values[attribute], format))
    let sql = `update ${CallRecord.table} set ${set}`
    if (write) {
      for (const [column, value] of Object.entries(write.columns)) {
        sql += `, ${column} = ?`
        bindings.push(value ?? null)
      }
    }
    sql += ' where id = ?'
    bindings.push(record.id)
    if (write) sql += ` and ${write.onceColumn} is null`
    let updated: number
    if (!companion) {
      updated = (await statement(sql).run(bindings)).count
    } else if (client.dialect.name === 'postgres') {
      const combined = `with companion as (${companion.sql}) ${sql}`
      updated = (await statement(combined).run([...companion.bindings, ...bindings])).count
    } else {
      // SQLite: two autocommits, the CDR's first (as before). One transaction around them cost
      // more CPU, not less: 0.61-0.87 ms against 0.42-0.53 ms per answer and end (BEGIN and
      // COMMIT are statements of their own through the pool); a crash between them leaves what
      // it left before, which recovery and the sweeper close.
      updated = (await statement(sql).run(bindings)).count
      await statement(companion.sql).run(companion.bindings)
    }
    if (updated === 0) return false
    // As save() leaves it: what was written is no longer dirty
    for (const attribute of attributes) record.$original[attribute] = record.$attributes[attribute]
    return true
  }
}

/**
 * The call path's statements, sent without the query builder (#core/direct_statements), one per
 * SQL text: the three writes and their variants with a rating's columns or the kept dialogs, a
 * handful of texts (bounded all the same).
 */
const statements = new Map<string, DirectStatement>()
function statement(sql: string): DirectStatement {
  let found = statements.get(sql)
  if (!found) {
    if (statements.size >= 64) statements.clear()
    found = new DirectStatement(sql)
    statements.set(sql, found)
  }
  return found
}

/**
 * Columns of the record set on its attributes, as the model's proxy would set them (no column of
 * CallRecord has a setter of its own) without its two traps per column (issue 17: the CDR's
 * setters, mostly the quality's nine columns, were 1.5-2 % of a call's CPU). Read back through
 * the model as before; dirty as before (the writes compare with `$original`).
 */
function setColumns(record: CallRecord, columns: Partial<Pick<CallRecord, CdrAttribute>>) {
  Object.assign(record.$attributes, columns)
}

/** A value as Lucid prepares it for a column: times in the dialect's format, undefined as null. */
function bindable(value: unknown, format: string) {
  if (value === undefined) return null
  return DateTime.isDateTime(value) ? sqlColumnTime(value, format) : value
}
