import env from '#start/env'
import app from '@adonisjs/core/services/app'
import { defineConfig } from '@adonisjs/lucid'

const migrations = { naturalSort: true, paths: ['database/migrations'] }
// Models declare their columns themselves; no generated schema classes.
const schemaGeneration = { enabled: false }

/**
 * Every query reports its duration as a `db:query` event (the /metrics histogram); they are not
 * printed (a `.debug(true)` query for a look by hand would be lost among them).
 */
const debug = true

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
  done(null, connection)
}

interface SqliteConnection {
  pragma(sql: string): unknown
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
