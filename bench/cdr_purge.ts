/*
 * The CDR purge on PostgreSQL (the issue's target: >= 1 M rows per minute, no write stall of a
 * concurrent writer above 100 ms). A copy of call_records' shape and indexes (cdr_purge_bench.call_records,
 * dropped at the end) gets ROWS records older than six months and YOUNG younger ones; then the
 * retention job's purge (purgeInBatches from app/calls/services/purge_batches.ts, the same
 * time-sized batches and the same DELETE ... WHERE id IN (SELECT id ... LIMIT n) the job runs)
 * deletes the old ones while a writer inserts a new CDR every WRITE_EVERY ms and times each insert.
 * Printed as JSON: rows per minute, batches, the longest batch, the writer's inserts, p99 and
 * longest insert time (the stall), during the purge and in a baseline of BASELINE seconds before
 * it (the writer alone: on a shared machine its stalls are not all the purge's doing).
 *
 *   node --import @poppinss/ts-exec bench/cdr_purge.ts [--rows 1000000] [--young 100000] [--write-every 5] [--baseline 10] [--max-batch 2000] [--duty 0.25]
 *
 * Connection: PG_HOST/PG_PORT/PG_USER/PG_PASSWORD/PG_DB_NAME (defaults 127.0.0.1, 5432, postgres).
 */
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import knex from 'knex'
import {
  MAX_BATCH,
  purgeInBatches,
  realPurgeTimer,
  REST_FACTOR,
  type PurgeTimer,
} from '#calls/services/purge_batches'
import { option } from './support/options.ts'

const ROWS = Number(option('rows', '1000000'))
const YOUNG = Number(option('young', '100000'))
const WRITE_EVERY = Number(option('write-every', '5'))
/** Seconds the writer runs alone first: its stalls without a purge, to read the others against. */
const BASELINE = Number(option('baseline', '10'))
/**
 * Share of the time the purge works, to compare: unset, the job's own rest (REST_FACTOR, i.e.
 * 0.25); 1 runs the batches back to back; 0.5 rests as long as the last batch took.
 */
const DUTY = option('duty', '') === '' ? null : Number(option('duty', ''))
/** Upper bound of a batch's rows (the job's: MAX_BATCH). */
const MAX_BATCH_ROWS = Number(option('max-batch', String(MAX_BATCH)))
/** A schema of its own: a test run on the same database drops every table in `public`. */
const SCHEMA = 'cdr_purge_bench'
const TABLE = `${SCHEMA}.call_records`

const db = knex({
  client: 'pg',
  connection: {
    host: process.env.PG_HOST ?? '127.0.0.1',
    port: Number(process.env.PG_PORT ?? 5432),
    user: process.env.PG_USER ?? 'postgres',
    password: process.env.PG_PASSWORD,
    database: process.env.PG_DB_NAME ?? 'fluffycall',
  },
  pool: { min: 2, max: 4 },
})

function percentile(values: number[], p: number) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]
}

async function setUp() {
  await db.raw(`CREATE SCHEMA IF NOT EXISTS ${SCHEMA}`)
  await db.schema.dropTableIfExists(TABLE)
  // call_records' columns and indexes (database/migrations/0300, 0601, 0901), without foreign keys
  await db.raw(`
    CREATE TABLE ${TABLE} (
      id serial PRIMARY KEY,
      uuid varchar(36) NOT NULL UNIQUE,
      company_id integer NOT NULL,
      user_id integer,
      direction varchar(16) NOT NULL,
      emergency boolean NOT NULL DEFAULT false,
      caller_number varchar(32),
      callee_number varchar(32),
      caller_withheld boolean NOT NULL DEFAULT false,
      carrier_name varchar(40),
      region varchar(16),
      started_at timestamptz NOT NULL,
      answered_at timestamptz,
      ended_at timestamptz,
      duration_seconds integer,
      sip_status integer,
      disconnect_cause varchar(32),
      hung_up_by varchar(8),
      cost_cents integer,
      node_id varchar(64),
      created_at timestamptz,
      updated_at timestamptz
    )`)
  await db.raw(`CREATE INDEX ON ${TABLE} (company_id)`)
  await db.raw(`CREATE INDEX ON ${TABLE} (user_id)`)
  await db.raw(`CREATE INDEX ON ${TABLE} (started_at)`)
  const fill = (count: number, offset: number, age: string) =>
    db.raw(
      `INSERT INTO ${TABLE} (uuid, company_id, user_id, direction, caller_number, callee_number,
         region, started_at, answered_at, ended_at, duration_seconds, sip_status, disconnect_cause,
         hung_up_by, node_id, created_at, updated_at)
       SELECT md5(g::text || 'cdr'), 1 + g % 500, 1 + g % 5000, 'outbound', '+4930111222',
         '+4930' || g, 'eu', now() - interval '${age}' - g * interval '1 second',
         now() - interval '${age}' - g * interval '1 second' + interval '5 seconds',
         now() - interval '${age}' - g * interval '1 second' + interval '2 minutes', 115, 200,
         'answered_normal', 'caller', 'bench', now(), now()
       FROM generate_series(?::int, ?::int) AS g`,
      [offset, offset + count - 1]
    )
  await fill(ROWS, 1, '7 months')
  await fill(YOUNG, ROWS + 1, '1 day')
  await db.raw(`VACUUM ANALYZE ${TABLE}`)
}

async function main() {
  const setUpStarted = performance.now()
  await setUp()
  const setUpMs = performance.now() - setUpStarted
  const cutoff = new Date(Date.now() - 183 * 24 * 3600 * 1000)

  // The concurrent writer: one new CDR every WRITE_EVERY ms, each insert timed
  const insertMs: number[] = []
  let writing = true
  let serial = 0
  const writer = (async () => {
    while (writing) {
      const started = performance.now()
      await db(TABLE).insert({
        uuid: `bench-new-${serial++}`,
        company_id: 1,
        user_id: 1,
        direction: 'inbound',
        started_at: new Date(),
        node_id: 'bench',
      })
      insertMs.push(performance.now() - started)
      await sleep(WRITE_EVERY)
    }
  })()
  await sleep(BASELINE * 1000)
  const baseline = insertMs.splice(0)

  let lastMs = 0
  const timer: PurgeTimer = {
    async measure(batch) {
      const measured = await realPurgeTimer.measure(batch)
      lastMs = measured.ms
      return measured
    },
    async pause(ms) {
      if (DUTY === null) await realPurgeTimer.pause(ms)
      else if (DUTY < 1) await sleep(lastMs * (1 / DUTY - 1))
      else await new Promise((resolve) => setImmediate(resolve))
    },
  }
  const batchMs: number[] = []
  const batchRows: number[] = []
  const started = performance.now()
  const deleted = await purgeInBatches(
    async (limit) =>
      Number(
        await db(TABLE)
          .whereIn('id', db(TABLE).select('id').where('started_at', '<', cutoff).limit(limit))
          .delete()
      ),
    timer,
    (rows, ms) => {
      batchRows.push(rows)
      batchMs.push(ms)
    },
    MAX_BATCH_ROWS
  )
  const purgeMs = performance.now() - started
  await sleep(500)
  writing = false
  await writer
  const left = await db(TABLE).count('* as total')
  await db.raw(`DROP SCHEMA ${SCHEMA} CASCADE`)
  await db.destroy()

  console.log(
    JSON.stringify(
      {
        rows: ROWS,
        maxBatch: MAX_BATCH_ROWS,
        duty: DUTY ?? 1 / (1 + REST_FACTOR),
        young: YOUNG,
        setUpSeconds: Math.round(setUpMs / 1000),
        deleted,
        left: Number(left[0].total),
        purgeSeconds: Number((purgeMs / 1000).toFixed(1)),
        rowsPerMinute: Math.round((deleted / purgeMs) * 60_000),
        batches: batchRows.length,
        batchRowsMedian: percentile(batchRows, 0.5),
        batchRowsMax: Math.max(...batchRows),
        batchMsMedian: Number(percentile(batchMs, 0.5).toFixed(1)),
        batchMsMax: Number(Math.max(...batchMs).toFixed(1)),
        baselineInserts: baseline.length,
        baselineMsP99: Number(percentile(baseline, 0.99).toFixed(2)),
        baselineMsMax: Number(Math.max(...baseline).toFixed(1)),
        writerInserts: insertMs.length,
        writerMsP50: Number(percentile(insertMs, 0.5).toFixed(2)),
        writerMsP99: Number(percentile(insertMs, 0.99).toFixed(2)),
        writerMsMax: Number(Math.max(...insertMs).toFixed(1)),
      },
      null,
      2
    )
  )
}

await main()
