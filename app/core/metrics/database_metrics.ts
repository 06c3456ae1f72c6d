import { Counter, Histogram } from 'prom-client'
import type { DbQueryEventNode } from '@adonisjs/lucid/types/database'
import metrics from '#core/services/metrics'

const queryDuration = new Histogram({
  name: 'fluffycall_db_query_duration_seconds',
  help: 'Database query time (Lucid query events), by connection and kind of statement',
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

/** One observation per query; the SQL and its bindings never reach a label. */
export function observeQuery(query: DbQueryEventNode & { error?: unknown }) {
  const method = METHODS.has(query.method) ? query.method : 'other'
  const labels = { connection: query.connection, method }
  if (query.duration) queryDuration.observe(labels, query.duration[0] + query.duration[1] / 1e9)
  if (query.error) queryErrors.inc(labels)
}
