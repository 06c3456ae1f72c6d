import { test } from '@japa/runner'
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import dbConfig, { cachePreparedStatements } from '#config/database'

interface Statement {
  run(...values: unknown[]): unknown
  all(): unknown[]
  safeIntegers(enabled: boolean): unknown
}
interface Connection {
  prepare(sql: string): Statement
  pragma(sql: string, options?: { simple: boolean }): unknown
  close(): void
}
// better-sqlite3 ships no types (knex brings its own driver typing only).
const Database = createRequire(import.meta.url)('better-sqlite3') as new (
  file: string
) => Connection

test.group('SQLite session', () => {
  test('a statement is prepared once per connection and still sees schema changes', ({
    assert,
  }) => {
    const connection = new Database(':memory:')
    let prepared = 0
    const prepare = connection.prepare.bind(connection)
    connection.prepare = ((sql: string) => {
      prepared += 1
      return prepare(sql)
    }) as typeof connection.prepare
    cachePreparedStatements(connection)
    connection.prepare('create table lines (id integer primary key, number text)').run()
    connection.prepare('insert into lines (number) values (?)').run('+4930111')
    connection.prepare('insert into lines (number) values (?)').run('+4930222')
    const select = connection.prepare('select * from lines order by id')
    assert.strictEqual(connection.prepare('select * from lines order by id'), select)
    assert.equal(prepared, 3)

    connection.prepare('alter table lines add column label text').run()
    assert.deepEqual(connection.prepare('select * from lines order by id').all()[0], {
      id: 1,
      number: '+4930111',
      label: null,
    })
    connection.close()
  })

  test('at most 500 statements are kept, the least recently used dropped first', ({ assert }) => {
    const connection = new Database(':memory:')
    cachePreparedStatements(connection)
    const first = connection.prepare('select 0')
    for (let index = 1; index < 500; index++) connection.prepare(`select ${index}`)
    assert.strictEqual(connection.prepare('select 0'), first)
    connection.prepare('select 500')
    connection.prepare('select 501')
    assert.strictEqual(connection.prepare('select 0'), first)
    assert.notStrictEqual(connection.prepare('select 1'), connection.prepare('select 2'))
    connection.close()
  })

  test('the SQLite connection opens in WAL mode with synchronous=NORMAL', async ({
    assert,
    cleanup,
  }) => {
    const directory = mkdtempSync(join(tmpdir(), 'fluffycall-sqlite-'))
    cleanup(() => rmSync(directory, { recursive: true, force: true }))
    const connection = new Database(join(directory, 'test.sqlite3'))
    cleanup(() => connection.close())
    const afterCreate = (dbConfig.connections.sqlite as any).pool.afterCreate
    await new Promise((resolve, reject) =>
      afterCreate(connection, (error: Error | null) => (error ? reject(error) : resolve(null)))
    )
    assert.equal(connection.pragma('journal_mode', { simple: true }), 'wal')
    assert.equal(connection.pragma('synchronous', { simple: true }), 1, 'NORMAL')
  })
})
