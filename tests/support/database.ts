import db from '@adonisjs/lucid/services/db'
import { directStatementSent } from '#core/direct_statements'

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
