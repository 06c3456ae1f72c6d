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

  async start(data: CdrStart): Promise<CallRecord> {
    const record = await CallRecord.create({
      ...data,
      uuid: randomUUID(),
      startedAt: DateTime.utc(),
      answeredAt: null,
      endedAt: null,
      costCents: null,
      endToEndEncrypted: false,
    })
    this.#announce('call:attempted', record)
    return record
  }

  /**
   * The carrier the call goes to (the last one tried). Set on the record only: the answer or the
   * end writes it with the rest (issue 17: one write fewer per call). A node that dies before
   * either leaves it to the sweep, which closes the record without it.
   */
  async carrier(record: CallRecord, carrierName: string) {
    record.carrierName = carrierName
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
      record.callerSignallingEncrypted = encryption.signalling
      record.callerMediaEncrypted = encryption.media
    } else {
      record.calleeSignallingEncrypted = encryption.signalling
      record.calleeMediaEncrypted = encryption.media
    }
  }

  /**
   * Both browsers confirmed their keys (issue 22). Set on the record only: the end writes it, so it
   * costs no extra write. Never set back: a call transferred to a SIP phone later was end-to-end
   * encrypted for a part.
   */
  endToEndEncrypted(record: CallRecord) {
    record.endToEndEncrypted = true
  }

  /**
   * The call's quality per side (the audio each side sent, as we received it). Set on the record
   * only: the end writes it, so it costs no extra write.
   */
  quality(record: CallRecord, sides: { caller: SideQuality | null; callee: SideQuality | null }) {
    for (const side of ['caller', 'callee'] as const) {
      const quality = sides[side]
      record[`${side}LossPercent`] = quality?.lossPercent ?? null
      record[`${side}JitterMs`] = quality?.jitterMs ?? null
      record[`${side}RttMs`] = quality?.rttMs ?? null
      record[`${side}Mos`] = quality?.mos ?? null
    }
    const known = [sides.caller?.mos, sides.callee?.mos].filter((mos) => mos !== undefined)
    record.qualityMos = known.length ? Math.min(...known) : null
  }

  async answered(record: CallRecord) {
    if (record.answeredAt) return
    record.answeredAt = DateTime.utc()
    await record.save()
    this.#announce('call:answered', record)
  }

  /** Completes the record once; later calls (a second BYE, a crash recovery race) change nothing. */
  async end(record: CallRecord, end: CdrEnd) {
    if (record.endedAt) return
    const endedAt = DateTime.utc()
    record.endedAt = endedAt
    record.sipStatus = end.sipStatus
    record.disconnectCause = end.cause
    record.hungUpBy = end.hungUpBy
    // (the milliseconds between the two instants, as luxon's diff would give them, without its
    // Duration and unit normalisation: issue 17, 2 % of the server's CPU per call)
    record.durationSeconds = record.answeredAt
      ? Math.max(0, Math.round((endedAt.toMillis() - record.answeredAt.toMillis()) / 1000))
      : 0
    const write = await this.#endWrite(record)
    if (!write || !(await this.#saveWith(record, write))) await record.save()
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
   * The end and the contribution in one UPDATE, only while the contribution's column is null:
   * false (nothing written) when another writer got there first; the caller then saves the end
   * alone, as before.
   */
  async #saveWith(record: CallRecord, write: CdrEndWrite): Promise<boolean> {
    // The changed attributes as save() would write them: column names, prepared values
    const changed: Record<string, unknown> = {}
    for (const [attribute, value] of Object.entries(record.$dirty)) {
      const column = CallRecord.$getColumn(attribute)!
      changed[column.columnName] = column.prepare ? column.prepare(value, attribute, record) : value
    }
    const updated = await db
      .from(CallRecord.table)
      .where('id', record.id)
      .whereNull(write.onceColumn)
      .update({ ...changed, ...write.columns })
    if (Number(Array.isArray(updated) ? updated.length : updated) === 0) return false
    record.$hydrateOriginals()
    write.written()
    return true
  }
}
