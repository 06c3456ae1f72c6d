import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type { StrictValues } from '@adonisjs/lucid/types/querybuilder'
import type { DialogSnapshot } from '#sip'
import ActiveCallLeg, { type CallLegParty } from '#calls/models/active_call_leg'
import { sqlTime } from '#core/sql_time'
import type { CdrCompanionWrite } from '#calls/b2bua/cdr_service'

/** One dialog of a call to keep: who it leads to, and how to end it. */
export interface CallLegToKeep {
  party: CallLegParty
  snapshot: DialogSnapshot
}

/** A dialog kept for crash recovery: whose call it is and how to end it. */
export interface KeptCallLeg {
  callRecordId: number
  party: CallLegParty
  /** Read when needed: a damaged row fails here, for this leg alone. */
  snapshot(): DialogSnapshot
  /** Drops it once it is dealt with. */
  remove(): Promise<void>
}

/**
 * Where the B2BUA keeps the dialogs of answered calls (the `active_call_legs` table, one row per
 * dialog: the carrier's and the user's phones or browsers that another process can reach), so
 * that a restarted node, or the sweeper for a node gone silent, can end them with a BYE. The one
 * durable write of a call besides its CDR, one statement for all its legs; a port so the call
 * logic does not know the database.
 */
export interface ActiveCallLegStore {
  keep(callRecordId: number, nodeId: string, legs: CallLegToKeep[]): Promise<void>
  forget(callRecordId: number): Promise<void>
  /** A kept dialog sent a request with a newer CSeq (a hold, a session refresh): rare, one update. */
  advance(callRecordId: number, callId: string, localTag: string, localSeq: number): Promise<void>
  ofNode(nodeId: string): Promise<KeptCallLeg[]>
  /**
   * `keep` as a write that goes with the CDR's answer (one statement on PostgreSQL, issue 17);
   * null when there is nothing to keep.
   */
  keeping(callRecordId: number, nodeId: string, legs: CallLegToKeep[]): CdrCompanionWrite | null
  /** `forget` as a write that goes with the CDR's end. */
  forgetting(callRecordId: number): CdrCompanionWrite
}

const LEG_COLUMNS = [
  'call_record_id',
  'node_id',
  'party',
  'call_id',
  'local_tag',
  'remote_tag',
  'local_uri',
  'remote_uri',
  'remote_target',
  'route_set',
  'local_seq',
  'protocol',
  'host',
  'port',
  'created_at',
]
const LEG_ROW = `(${LEG_COLUMNS.map(() => '?').join(', ')})`
const insertLegs = (count: number) =>
  `insert into ${ActiveCallLeg.table} (${LEG_COLUMNS.join(', ')}) values ${Array(count).fill(LEG_ROW).join(', ')}`
/** The insert of one leg and of two (a call's usual count), made once. */
const INSERT_LEGS = [insertLegs(1), insertLegs(2)]
const DELETE_LEGS = `delete from ${ActiveCallLeg.table} where call_record_id = ?`

/** The store on the database (Lucid). */
export class DatabaseActiveCallLegs implements ActiveCallLegStore {
  async keep(callRecordId: number, nodeId: string, legs: CallLegToKeep[]) {
    const write = this.keeping(callRecordId, nodeId, legs)
    if (write) await db.rawQuery(write.sql, write.bindings as StrictValues[])
  }

  async forget(callRecordId: number) {
    const write = this.forgetting(callRecordId)
    await db.rawQuery(write.sql, write.bindings as StrictValues[])
  }

  // One multi-row insert: a call's legs cost one statement however many there are (issue 17).
  keeping(callRecordId: number, nodeId: string, legs: CallLegToKeep[]): CdrCompanionWrite | null {
    if (legs.length === 0) return null
    const createdAt = sqlTime(DateTime.utc())
    const bindings = legs.flatMap(({ party, snapshot }) => [
      callRecordId,
      nodeId,
      party,
      snapshot.callId,
      snapshot.localTag,
      snapshot.remoteTag,
      snapshot.localUri,
      snapshot.remoteUri,
      snapshot.remoteTarget,
      JSON.stringify(snapshot.routeSet),
      snapshot.localSeq,
      snapshot.protocol,
      snapshot.host,
      snapshot.port,
      createdAt,
    ])
    return { sql: INSERT_LEGS[legs.length - 1] ?? insertLegs(legs.length), bindings }
  }

  forgetting(callRecordId: number): CdrCompanionWrite {
    return { sql: DELETE_LEGS, bindings: [callRecordId] }
  }

  async advance(callRecordId: number, callId: string, localTag: string, localSeq: number) {
    // Never backwards: two updates may overtake each other.
    await db
      .from(ActiveCallLeg.table)
      .where({ call_record_id: callRecordId, call_id: callId, local_tag: localTag })
      .where('local_seq', '<', localSeq)
      .update({ local_seq: localSeq })
  }

  async ofNode(nodeId: string): Promise<KeptCallLeg[]> {
    const legs = await ActiveCallLeg.query().where('node_id', nodeId).orderBy('id')
    return legs.map((leg) => ({
      callRecordId: leg.callRecordId,
      party: leg.party,
      snapshot: () => ({
        callId: leg.callId,
        localTag: leg.localTag,
        remoteTag: leg.remoteTag,
        localUri: leg.localUri,
        remoteUri: leg.remoteUri,
        remoteTarget: leg.remoteTarget,
        routeSet: JSON.parse(leg.routeSet),
        localSeq: leg.localSeq,
        protocol: leg.protocol as DialogSnapshot['protocol'],
        host: leg.host,
        port: leg.port,
      }),
      remove: () => leg.delete(),
    }))
  }
}
