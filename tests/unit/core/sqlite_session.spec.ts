import { test } from '@japa/runner'
import Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import dbConfig from '#config/database'

test.group('SQLite session', () => {
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
