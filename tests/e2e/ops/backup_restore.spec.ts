import { mkdtemp, rm, stat, writeFile, readdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import db from '@adonisjs/lucid/services/db'
import DatabaseBackup from '#core/backups/database_backup'
import DatabaseBackupJob from '#core/jobs/database_backup_job'
import { backupStatus, pgTarget } from '#core/backups/backup_status'
import { makeCompany } from '#tests/support/accounts'
import { freePort } from '#tests/support/sip_peers'
import { startServer } from '#tests/support/server_process'

/**
 * The scheduled backup on PostgreSQL (bin/test --services): the job dumps the test database with
 * pg_dump into BACKUP_DIR, deletes dumps past BACKUP_KEEP_DAYS, and skips while the newest is
 * fresh; the dump restores with pg_restore into a scratch database, which holds the data and on
 * which the real server process answers /readyz. Skipped on SQLite (no pg_dump there).
 */

const postgres = process.env.DB_CONNECTION === 'pg'

/**
 * Runs one step with a limit well inside the test's: a step that hangs fails naming itself and
 * what PostgreSQL's sessions were waiting on (a lock, a client), instead of the whole test timing
 * out without a word.
 */
async function step<T>(name: string, ms: number, work: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(async () => {
      const waiting = await db
        .rawQuery(
          `select datname, state, wait_event_type, wait_event, left(query, 120) as query
             from pg_stat_activity where pid <> pg_backend_pid() and datname is not null`
        )
        .then((result) => JSON.stringify(result.rows))
        .catch((error) => `pg_stat_activity unreadable: ${error.message}`)
      reject(new Error(`${name}: not done within ${ms} ms; sessions: ${waiting}`))
    }, ms)
  })
  try {
    return await Promise.race([work(), limit])
  } finally {
    clearTimeout(timer)
  }
}

test.group('Backups: pg_dump, retention, restore', () => {
  test('the job dumps, keeps BACKUP_KEEP_DAYS, and the dump restores into a database the server runs on', async ({
    assert,
    cleanup,
  }) => {
    const dir = await mkdtemp(join(tmpdir(), 'fluffycall-backups-'))
    cleanup(() => rm(dir, { recursive: true, force: true }))
    const saved = app.config.get('backup')
    app.config.set('backup', { dir, keepDays: 14, intervalHours: 24 })
    cleanup(() => app.config.set('backup', saved))

    const now = new Date('2026-12-01T03:00:00Z')
    // A dump from 20 days ago (past the 14 days kept) and one from 10 days ago (kept).
    await writeFile(join(dir, 'fluffycall-old-20261111T030000Z.dump'), 'old')
    await writeFile(join(dir, 'fluffycall-old-20261121T030000Z.dump'), 'recent')
    const company = await makeCompany('active')

    const job = new DatabaseBackupJob(() => now)
    await step('pg_dump', 30_000, () => job.handle({}))
    const names = (await readdir(dir)).sort()
    const target = pgTarget()
    const dump = `fluffycall-${target.database}-20261201T030000Z.dump`
    assert.deepEqual(
      names,
      [dump, 'fluffycall-old-20261121T030000Z.dump'].sort(),
      'the 20-day-old dump is gone'
    )
    assert.equal(
      (await stat(join(dir, dump))).mode & 0o777,
      0o600,
      'only the service user reads a dump'
    )

    // An hour later the newest dump is fresh: the hourly check takes none.
    await new DatabaseBackupJob(() => new Date(now.getTime() + 3600_000)).handle({})
    assert.lengthOf(await readdir(dir), 2)
    const status = await backupStatus(() => new Date(now.getTime() + 90_000))
    assert.include(status, { configured: true, ageSeconds: 90, files: 2, keepDays: 14 })
    assert.isAbove(status.latest!.bytes, 1000)

    const scratch = `${target.database}_restore_${process.pid}`
    await step('create database', 15_000, () => db.rawQuery(`create database ${scratch}`))
    cleanup(() => db.rawQuery(`drop database if exists ${scratch} with (force)`))
    await step('pg_restore', 30_000, () =>
      DatabaseBackup.restore(join(dir, dump), { ...target, database: scratch })
    )

    const restored = `restored_${process.pid}`
    db.manager.add(restored, {
      ...app.config.get<any>('database.connections.pg'),
      connection: { ...target, database: scratch },
    })
    const rows = await db
      .connection(restored)
      .from('companies')
      .where('id', company.id)
      .select('legal_name')
      .finally(() => db.manager.close(restored, true))
    assert.deepEqual(rows, [{ legal_name: company.legalName }])

    const ports = { sip: await freePort('udp'), http: await freePort('tcp') }
    const server = await startServer(
      {
        ...process.env,
        NODE_ENV: 'test',
        HOST: '127.0.0.1',
        PORT: String(ports.http),
        PG_DB_NAME: scratch,
        REDIS_PREFIX: `${process.env.REDIS_PREFIX ?? ''}restore-${process.pid}:`,
        SIP_TRANSPORTS: 'udp',
        SIP_UDP_PORT: String(ports.sip),
        NODE_ID: 'ops-restore-node',
        CALL_DRAIN_SECONDS: '1',
      },
      ports.sip
    )
    cleanup(() => {
      server.child.kill('SIGKILL')
    })
    const ready = (await (
      await fetch(`http://127.0.0.1:${ports.http}/readyz`, { signal: AbortSignal.timeout(10_000) })
    ).json()) as {
      status: string
      checks: Record<string, string>
    }
    assert.deepInclude(ready, { status: 'ready' })
    assert.equal(ready.checks.database, 'ok')
    server.child.kill('SIGTERM')
    assert.deepEqual(
      await step('server stop after SIGTERM', 15_000, () => server.exited).catch((error) => {
        throw new Error(`${error.message}; server stderr: ${server.stderr()}`)
      }),
      { code: 0, signal: null },
      server.stderr()
    )
  })
    .skip(
      !postgres,
      'PostgreSQL only: run with bin/test --services (pg_dump has nothing to dump on SQLite)'
    )
    .timeout(120_000)
})
