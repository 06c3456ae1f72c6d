import { Counter, Histogram } from 'prom-client'
import metrics from '#core/services/metrics'

const queryDuration = new Histogram({
  name: 'fluffycall_db_query_duration_seconds',
  help: 'Database query time (from the statement sent to its answer), by connection and kind of statement',
  labelNames: ['connection', 'method'] as const,
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
  registers: [metrics],
})

const queryErrors = new Counter({
  name: 'fluffycall_db_query_errors_total',
  help: 'Database queries that failed, by connection and kind of statement',
  labelNames: ['connection', 'method'] as const,
  registers: [metrics],
})

const METHODS = new Set([
  'select',
  'insert',
  'update',
  'del',
  'delete',
  'raw',
  'first',
  'pluck',
  'count',
  'truncate',
])

/** What the timing needs of a knex instance (Lucid's connection.client): its query events. */
export interface QueryEventSource {
  on(event: 'query' | 'query-response' | 'query-error', listener: (...args: any[]) => void): unknown
}

/** knex's query object: a uid per execution, the builder's method ('raw' for raw SQL). */
interface TimedQuery {
  __knexQueryUid?: string
  method?: string
}

/** Statements sent and not answered yet, by uid (bounded: a lost answer must not grow it). */
const sent = new Map<string, bigint>()
const MAX_PENDING = 10_000
const timing = new WeakSet<object>()

/** The histogram's and the counter's series, by connection and method (labels resolved once). */
const series = new Map<
  string,
  { duration: Histogram.Internal<'connection' | 'method'>; errors: Counter.Internal }
>()

/**
 * One statement's time (from sent to answered, in nanoseconds) and whether it failed: for the
 * statements sent without knex (#core/direct_statements) and those timed below.
 */
export function observeQuery(
  connection: string,
  method: string,
  nanoseconds: bigint,
  failed: boolean
) {
  const key = `${connection}\0${method}`
  let found = series.get(key)
  if (!found) {
    found = {
      duration: queryDuration.labels({ connection, method }),
      errors: queryErrors.labels({ connection, method }),
    }
    series.set(key, found)
  }
  found.duration.observe(Number(nanoseconds) / 1e9)
  if (failed) found.errors.inc()
}

/**
 * One observation per query a connection runs; the SQL and its bindings never reach a label.
 * From knex's own query events, synchronous, on the statement's uid: the same statements and
 * instants Lucid's `db:query` events gave (its reporter starts on the same `query` event and ends
 * on the answer), without Lucid's debug reporting and the app emitter's asynchronous dispatch per
 * statement (issue 17: about 1 % of a call's CPU on the call path's three statements).
 * Statements of knex's own (a transaction's BEGIN and COMMIT, which Lucid never reported) carry
 * no uid and stay out, as before.
 */
export function timeQueries(client: QueryEventSource, connection: string) {
  if (timing.has(client)) return
  timing.add(client)
  const answered = (query: TimedQuery, failed: boolean) => {
    const uid = query?.__knexQueryUid
    if (!uid) return
    const at = sent.get(uid)
    if (at === undefined) return
    sent.delete(uid)
    const method = METHODS.has(query.method!) ? query.method! : 'other'
    observeQuery(connection, method, process.hrtime.bigint() - at, failed)
  }
  client.on('query', (query: TimedQuery) => {
    if (!query?.__knexQueryUid || !query.method) return
    if (sent.size >= MAX_PENDING) sent.clear()
    sent.set(query.__knexQueryUid, process.hrtime.bigint())
  })
  client.on('query-response', (_response: unknown, query: TimedQuery) => answered(query, false))
  client.on('query-error', (_error: unknown, query: TimedQuery) => answered(query, true))
}
