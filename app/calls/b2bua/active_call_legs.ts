import type { DialogSnapshot } from '#sip'
import ActiveCallLeg from '#calls/models/active_call_leg'

/** A carrier dialog kept for crash recovery: whose call it is and how to end it. */
export interface KeptCallLeg {
  callRecordId: number
  /** Read when needed: a damaged row fails here, for this leg alone. */
  snapshot(): DialogSnapshot
  /** Drops it once it is dealt with. */
  remove(): Promise<void>
}

/**
 * Where the B2BUA keeps the carrier dialogs of answered calls (the `active_call_legs` table), so
 * that a restarted node, or the sweeper for a node gone silent, can end them with a BYE. The one
 * durable write of a call besides its CDR; a port so the call logic does not know the database.
 */
export interface ActiveCallLegStore {
  keep(callRecordId: number, nodeId: string, snapshot: DialogSnapshot): Promise<void>
  forget(callRecordId: number): Promise<void>
  ofNode(nodeId: string): Promise<KeptCallLeg[]>
}

/** The store on the database (Lucid). */
export class DatabaseActiveCallLegs implements ActiveCallLegStore {
  async keep(callRecordId: number, nodeId: string, snapshot: DialogSnapshot) {
    await ActiveCallLeg.create({
      callRecordId,
      nodeId,
      ...snapshot,
      routeSet: JSON.stringify(snapshot.routeSet),
    })
  }

  async forget(callRecordId: number) {
    await ActiveCallLeg.query().where('call_record_id', callRecordId).delete()
  }

  async ofNode(nodeId: string): Promise<KeptCallLeg[]> {
    const legs = await ActiveCallLeg.query().where('node_id', nodeId)
    return legs.map((leg) => ({
      callRecordId: leg.callRecordId,
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
