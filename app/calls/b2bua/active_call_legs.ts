import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type { DialogSnapshot } from '#sip'
import ActiveCallLeg, { type CallLegParty } from '#calls/models/active_call_leg'
import { sqlTime } from '#core/sql_time'

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
}

/** The store on the database (Lucid). */
export class DatabaseActiveCallLegs implements ActiveCallLegStore {
  async keep(callRecordId: number, nodeId: string, legs: CallLegToKeep[]) {
    if (legs.length === 0) return
    const createdAt = sqlTime(DateTime.utc())
    // One multi-row insert: a call's legs cost one statement however many there are (issue 17).
    await db.table(ActiveCallLeg.table).multiInsert(
      legs.map(({ party, snapshot }) => ({
        call_record_id: callRecordId,
        node_id: nodeId,
        party,
        call_id: snapshot.callId,
        local_tag: snapshot.localTag,
        remote_tag: snapshot.remoteTag,
        local_uri: snapshot.localUri,
        remote_uri: snapshot.remoteUri,
        remote_target: snapshot.remoteTarget,
        route_set: JSON.stringify(snapshot.routeSet),
        local_seq: snapshot.localSeq,
        protocol: snapshot.protocol,
        host: snapshot.host,
        port: snapshot.port,
        created_at: createdAt,
      }))
    )
  }

  async forget(callRecordId: number) {
    await ActiveCallLeg.query().where('call_record_id', callRecordId).delete()
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
