import { createHash } from 'node:crypto'
import { channel } from 'node:diagnostics_channel'
import db from '@adonisjs/lucid/services/db'
import { observeQuery } from '#core/metrics/database_metrics'

/**
 * What a statement of ours answers: the rows it returned and the rows it changed (an UPDATE's,
 * a DELETE's or an INSERT's count; a SELECT's row count).
 */
export interface DirectResult {
  rows: Array<Record<string, unknown>>
  count: number
}

interface PgResult {
  rows: Array<Record<string, unknown>>
  rowCount: number | null
}
interface PgQuery {
  name?: string
}
/** The driver connection knex's pool lends: node-postgres' Client or better-sqlite3's Database. */
interface PgConnection {
  constructor: {
    Query: new (
      text: string,
      values: unknown[],
      callback: (error: Error | null, result: PgResult) => void
    ) => PgQuery
  }
  query(query: PgQuery): unknown
}
interface SqliteStatementLike {
  reader: boolean
  all(bindings: unknown[]): Array<Record<string, unknown>>
  run(bindings: unknown[]): { changes: number }
}
interface SqliteConnectionLike {
  prepare(sql: string): SqliteStatementLike
}
/** The part of knex's client the path needs: its dialect and its pool. */
interface PooledClient {
  dialect: string
  acquireConnection(): Promise<unknown>
  releaseConnection(connection: unknown): Promise<unknown> | unknown
}

/**
 * Each direct statement as it is sent (`{ sql }`), for whoever listens (tests count a call's
 * statements with knex's query events and this); nothing is published while nobody does.
 */
export const directStatementSent = channel('fluffycall:direct-statement')

/**
 * A statement the call path runs on every call (a CDR's insert and updates, the kept dialogs),
 * sent straight to the driver of a connection from Lucid's pool: no query builder, no raw-query
 * wrapper, no SQL formatting per run (issue 17: knex's runner, formatter and Lucid's wrapper
 * were about 5 % of the server's CPU per call for three statements). On PostgreSQL it is a named
 * prepared statement: parsed and planned once per connection, each run sends only its values.
 * On SQLite the connection's statement cache (config/database.ts) keeps it prepared.
 *
 * The same pool, so the same connections, limits and failures as every other query: a pool
 * that finds no connection in time throws knex's timeout, a dead server the driver's error
 * (#core/database_unavailable knows both), and a connection whose server went away is dropped
 * by the pool as before. Timed into the same /metrics histogram as knex's queries. Only for
 * tables no lookup cache reads (#core/caching/lookup_changes watches knex's queries, not these).
 *
 * The SQL has `?` placeholders only (no `??` identifiers, no quoted `?`).
 */
export class DirectStatement {
  readonly sql: string
  readonly #pgText: string
  readonly #name: string
  readonly #method: string

  constructor(sql: string) {
    if (sql.includes("'") || sql.includes('??') || sql.includes('\\?')) {
      throw new Error(`A direct statement has plain ? placeholders and no literals: ${sql}`)
    }
    this.sql = sql
    let position = 0
    this.#pgText = sql.replace(/\?/g, () => `$${++position}`)
    this.#name = `fc_${createHash('sha1').update(sql).digest('hex').slice(0, 20)}`
    const verb = verbOf(sql)
    this.#method = verb === 'delete' ? 'del' : (verb ?? 'raw')
  }

  /** Runs the statement on the default connection with these values. */
  async run(bindings: unknown[]): Promise<DirectResult> {
    const connectionName = db.primaryConnectionName
    const client = db.connection(connectionName).getWriteClient().client as unknown as PooledClient
    const connection = await client.acquireConnection()
    if (directStatementSent.hasSubscribers) directStatementSent.publish({ sql: this.sql })
    const started = process.hrtime.bigint()
    let failed = false
    try {
      if (client.dialect === 'postgresql') {
        const result = await runNamed(
          connection as PgConnection,
          this.#name,
          this.#pgText,
          bindings
        )
        return { rows: result.rows, count: result.rowCount ?? 0 }
      }
      const statement = (connection as SqliteConnectionLike).prepare(this.sql)
      const values = bindings.map(sqliteValue)
      if (statement.reader) {
        const rows = statement.all(values)
        return { rows, count: rows.length }
      }
      return { rows: [], count: statement.run(values).changes }
    } catch (error) {
      failed = true
      throw error
    } finally {
      observeQuery(connectionName, this.#method, process.hrtime.bigint() - started, failed)
      await client.releaseConnection(connection)
    }
  }
}

/**
 * A named statement as node-postgres' own Query object: a query config object would be copied
 * property by property (its `cloneQueryConfig`, into a slow dictionary object) and wrapped in a
 * promise with a `.catch` per run; the Query made from the text alone is not copied, and is
 * submitted as it is. The error gets this caller's stack, as node-postgres' promise gives it.
 */
function runNamed(connection: PgConnection, name: string, text: string, values: unknown[]) {
  return new Promise<PgResult>((resolve, reject) => {
    const Query = connection.constructor.Query
    const query = new Query(text, values, (error, result) => {
      if (error) {
        Error.captureStackTrace(error)
        reject(error)
      } else resolve(result)
    })
    query.name = name
    connection.query(query)
  })
}

/**
 * The statement's own verb, lower case: its first word, or after a `with` clause the first
 * select, insert, update or delete outside its parenthesised queries (`with companion as (insert
 * into t (a, b) values (...)) update ...` is an update).
 */
function verbOf(sql: string): string | undefined {
  const first = /^\s*(\w+)/.exec(sql)?.[1]?.toLowerCase()
  if (first !== 'with') return first
  let depth = 0
  for (const token of sql.matchAll(/[()]|\w+/g)) {
    if (token[0] === '(') depth++
    else if (token[0] === ')') depth--
    else if (depth === 0 && /^(?:select|insert|update|delete)$/i.test(token[0]))
      return token[0].toLowerCase()
  }
  return undefined
}

/** A value as better-sqlite3 binds it (as knex's dialect formats it: booleans as 0 or 1). */
function sqliteValue(value: unknown) {
  if (typeof value === 'boolean') return Number(value)
  if (value instanceof Date) return value.valueOf()
  return value === undefined ? null : value
}
