import env from '#start/env'
import app from '@adonisjs/core/services/app'
import { defineConfig } from '@adonisjs/lucid'

const migrations = { naturalSort: true, paths: ['database/migrations'] }
// Models declare their columns themselves; no generated schema classes.
const schemaGeneration = { enabled: false }

/**
 * No `db:query` event per query: the /metrics histogram times the statements from knex's own
 * query events (#core/metrics/database_metrics), without Lucid's debug reporting and the
 * emitter's dispatch per statement (issue 17). A `.debug(true)` query still reports itself.
 */
const debug = false

/**
 * SQLite runs in WAL mode with synchronous=NORMAL: a commit appends to the log without waiting
 * for the disk, and readers never wait for the writer. better-sqlite3 is synchronous, so with the
 * rollback journal every write (a CDR's insert and updates, a lease) held the event loop for a
 * disk flush. Durability: a commit survives the process being killed (SIGKILL, a crash: the log
 * is in the OS's page cache); a power loss or kernel crash may lose the last commits before a
 * checkpoint, never corrupt the database. PostgreSQL is the choice where that matters.
 */
function sqliteSession(connection: SqliteConnection, done: Function) {
  connection.pragma('journal_mode = WAL')
  connection.pragma('synchronous = NORMAL')
  cachePreparedStatements(connection)
  done(null, connection)
}

interface SqliteStatement {
  safeIntegers(enabled: boolean): unknown
}
interface SqliteConnection {
  pragma(sql: string): unknown
  prepare(sql: string): SqliteStatement
}

/** Statements kept per connection, least recently used dropped first. */
const PREPARED_STATEMENTS = 500

/**
 * knex prepares every query anew (better-sqlite3's prepare compiles the SQL: about a third of
 * the database's time in a call); a call runs the same few dozen statements every time, so each
 * connection keeps its prepared statements by SQL text. Safe because better-sqlite3 runs a
 * statement to completion synchronously (knex uses `all`/`run`, never `iterate`) and re-prepares
 * it itself when the schema changed; the one per-statement mode knex sets is reset on reuse.
 */
export function cachePreparedStatements(connection: SqliteConnection) {
  const prepare = connection.prepare.bind(connection)
  const statements = new Map<string, SqliteStatement>()
  connection.prepare = (sql: string) => {
    let statement = statements.get(sql)
    if (statement) {
      statements.delete(sql)
      statement.safeIntegers(false)
    } else {
      statement = prepare(sql)
      if (statements.size >= PREPARED_STATEMENTS) statements.delete(statements.keys().next().value!)
    }
    statements.set(sql, statement)
    return statement
  }
}

const dbConfig = defineConfig({
  connection: env.get('DB_CONNECTION', 'sqlite'),
  prettyPrintDebugQueries: false,
  connections: {
    sqlite: {
      client: 'better-sqlite3',
      connection: {
        filename: env.get('SQLITE_FILE') ?? app.tmpPath(app.inTest ? 'test.sqlite3' : 'db.sqlite3'),
      },
      useNullAsDefault: true,
      pool: { afterCreate: sqliteSession },
      debug,
      migrations,
      schemaGeneration,
    },
    pg: {
      client: 'pg',
      connection: {
        host: env.get('PG_HOST', '127.0.0.1'),
        port: env.get('PG_PORT', 5432),
        user: env.get('PG_USER', 'postgres'),
        password: env.get('PG_PASSWORD'),
        database: env.get('PG_DB_NAME', 'fluffycall'),
      },
      debug,
      migrations,
      schemaGeneration,
    },
  },
})

export default dbConfig
