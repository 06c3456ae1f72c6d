import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import { sqlTime } from '#core/sql_time'
import CallRecord from '#calls/models/call_record'
import type CdrService from '#calls/b2bua/cdr_service'

/** What the sweeper needs of the B2BUA of its node. */
export interface SweptNode {
  isLive(uuid: string): boolean
  endCallsOfNode(nodeId: string, cause: 'node_lost'): Promise<number>
}

export interface CallSweeperOptions {
  nodeId: string
  /** A node silent for this long is lost. */
  nodeLostAfterSeconds: number
  /** A CDR younger than this may belong to a call that is still being set up: left alone. */
  setupGraceSeconds: number
}

export interface SweepResult {
  /** CDRs of this node whose call no longer exists, closed as `lost`. */
  lost: number
  /** Nodes found silent and swept by this node (their CDRs closed as `node_lost`). */
  lostNodes: string[]
}

/**
 * Every CDR closes, whatever happened to its call: each node notes that it lives and closes the
 * open CDRs of its own calls that no longer run; the CDRs of a node that has gone silent (crashed
 * and not restarted, or removed) are closed by whichever node claims that node first. The clock
 * is passed in, so tests move time instead of waiting.
 */
export default class CallSweeper {
  constructor(
    private readonly node: SweptNode,
    private readonly cdr: CdrService,
    private readonly options: CallSweeperOptions
  ) {}

  async sweep(now: DateTime = DateTime.utc()): Promise<SweepResult> {
    await this.heartbeat(now)
    const lost = await this.#closeOwnLostCalls(now)
    const lostNodes = await this.#sweepSilentNodes(now)
    return { lost, lostNodes }
  }

  async heartbeat(now: DateTime = DateTime.utc()) {
    const at = sqlTime(now)
    const updated = await db
      .from('call_nodes')
      .where('node_id', this.options.nodeId)
      .update({ last_seen_at: at })
    if (Number(Array.isArray(updated) ? updated[0] : updated) > 0) return
    await db
      .table('call_nodes')
      .insert({ node_id: this.options.nodeId, last_seen_at: at })
      .onConflict('node_id')
      .merge()
  }

  async #closeOwnLostCalls(now: DateTime) {
    const before = sqlTime(now.minus({ seconds: this.options.setupGraceSeconds }))
    const open = await CallRecord.query()
      .where('node_id', this.options.nodeId)
      .whereNull('ended_at')
      .where('started_at', '<', before)
    let closed = 0
    for (const record of open) {
      if (this.node.isLive(record.uuid)) continue
      await this.cdr.end(record, { cause: 'lost', sipStatus: null, hungUpBy: 'system' })
      closed += 1
    }
    return closed
  }

  async #sweepSilentNodes(now: DateTime) {
    const cutoff = sqlTime(now.minus({ seconds: this.options.nodeLostAfterSeconds }))
    // Open CDRs of nodes that never noted themselves (or whose note is gone): give them a note
    // as old as their oldest call, so they are judged like any other node.
    const unknown = await db
      .from('call_records')
      .whereNull('ended_at')
      .whereNot('node_id', this.options.nodeId)
      .whereNotIn('node_id', db.from('call_nodes').select('node_id'))
      .groupBy('node_id')
      .select('node_id')
      .min('started_at as oldest')
    for (const row of unknown) {
      const oldest = toDateTime(row.oldest)
      await db
        .table('call_nodes')
        .insert({ node_id: row.node_id, last_seen_at: sqlTime(oldest.isValid ? oldest : now) })
        .onConflict('node_id')
        .ignore()
    }
    const silent = await db
      .from('call_nodes')
      .whereNot('node_id', this.options.nodeId)
      .where('last_seen_at', '<', cutoff)
      .select('node_id')
    const swept: string[] = []
    for (const { node_id: nodeId } of silent) {
      // Claimed by deleting its note: of several nodes sweeping at once, exactly one wins.
      const claimed = await db
        .from('call_nodes')
        .where('node_id', nodeId)
        .where('last_seen_at', '<', cutoff)
        .delete()
      if (Number(Array.isArray(claimed) ? claimed[0] : claimed) !== 1) continue
      await this.node.endCallsOfNode(nodeId, 'node_lost')
      swept.push(nodeId)
    }
    return swept
  }
}

/** A timestamp as the database driver returns it (Date, or text in SQLite). */
function toDateTime(value: unknown): DateTime {
  if (value instanceof Date) return DateTime.fromJSDate(value, { zone: 'utc' })
  const text = String(value)
  const parsed = DateTime.fromSQL(text, { zone: 'utc' })
  return parsed.isValid ? parsed : DateTime.fromISO(text, { zone: 'utc' })
}
