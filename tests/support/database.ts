import db from '@adonisjs/lucid/services/db'

/** The statements the database is sent while `run` runs (the app's own connection). */
export async function statementsDuring(run: () => Promise<unknown>) {
  const sent: string[] = []
  const knex = db.connection().getWriteClient()
  const listener = (query: { sql: string }) => sent.push(query.sql)
  knex.on('query', listener)
  try {
    await run()
  } finally {
    knex.removeListener('query', listener)
  }
  return sent
}
