import db from '@adonisjs/lucid/services/db'
import { directStatementSent } from '#core/direct_statements'
import metrics from '#core/services/metrics'

/**
 * The statements the database is sent while `run` runs (the app's own connection): through knex
 * and straight to the driver (#core/direct_statements).
 */
export async function statementsDuring(run: () => Promise<unknown>) {
  const sent: string[] = []
  const knex = db.connection().getWriteClient()
  const listener = (query: { sql: string }) => sent.push(query.sql)
  const direct = (message: unknown) => sent.push((message as { sql: string }).sql)
  knex.on('query', listener)
  directStatementSent.subscribe(direct)
  try {
    await run()
  } finally {
    knex.removeListener('query', listener)
    directStatementSent.unsubscribe(direct)
  }
  return sent
}

/** A metric's sample with these labels (a histogram's by its metricName, `_count`), or 0. */
async function sample(name: string, labels: Record<string, string>, metricName?: string) {
  const metric = await metrics.getSingleMetric(name)!.get()
  const found = metric.values.find(
    (entry) =>
      (entry as { metricName?: string }).metricName === metricName &&
      Object.entries(labels).every(([key, wanted]) => entry.labels[key] === wanted)
  )
  return found?.value ?? 0
}

const TIMED = 'fluffycall_db_query_duration_seconds'
const FAILED = 'fluffycall_db_query_errors_total'

/**
 * The app connection's statements of one kind in /metrics so far: timed, and failed. After a
 * turn of the event loop, so that every statement's observation is in.
 */
export async function statementFigures(method: string) {
  await new Promise((resolve) => setImmediate(resolve))
  const labels = { connection: db.primaryConnectionName, method }
  return {
    timed: await sample(TIMED, labels, `${TIMED}_count`),
    failed: await sample(FAILED, labels),
  }
}
