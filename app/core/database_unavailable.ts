/**
 * Whether an error means the database cannot take work right now: its server refused or dropped
 * the connection (PostgreSQL restarting, the network to it cut), knex's pool found no connection
 * in time, or SQLite's lock was held too long. Such a write may succeed once it is back; a
 * constraint or a syntax error never will.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false
  const text = `${error.name} ${error.message} ${(error as { code?: string }).code ?? ''}`
  return /KnexTimeoutError|Timeout acquiring a connection|SQLITE_BUSY|too many clients|ECONNREFUSED|ECONNRESET|Connection terminated|not queryable|the database system is (starting up|shutting down)|57P0[123]/i.test(
    text
  )
}
