import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import db from '@adonisjs/lucid/services/db'
import { DateTime } from 'luxon'
import { sqlTime } from '#core/sql_time'
import { freePort } from '#tests/support/sip_peers'
import { startServer, until } from '#tests/support/server_process'

/**
 * A node that starts runs its overdue scheduled jobs once (JOBS_CATCH_UP, on outside tests): the
 * in-process queue's timers begin anew with every start, so a node restarted more often than
 * every 6 hours never deleted call data that had reached 6 months. A real server process on a
 * database of its own (a scratch SQLite file, or a scratch PostgreSQL database), holding a CDR
 * of 7 months and one of yesterday, and no run of the retention job yet.
 */

const postgres = process.env.DB_CONNECTION === 'pg'

function ace(args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['ace', ...args], {
      cwd: app.makePath(),
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let stderr = ''
    child.stderr!.on('data', (chunk) => (stderr += chunk))
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`ace ${args.join(' ')} exited ${code}: ${stderr}`))
    )
  })
}

test.group('Jobs: overdue scheduled jobs run at start', () => {
  test('a starting node deletes the call data that fell due while no retention run happened', async ({
    assert,
    cleanup,
  }) => {
    const scratch = `catch_up_${process.pid}`
    const database = postgres
      ? { PG_DB_NAME: `${process.env.PG_DB_NAME ?? 'fluffycall'}_${scratch}` }
      : { SQLITE_FILE: app.tmpPath(`${scratch}.sqlite3`) }
    if (postgres) {
      await db.rawQuery(`drop database if exists ${database.PG_DB_NAME}`)
      await db.rawQuery(`create database ${database.PG_DB_NAME}`)
    } else {
      await rm(database.SQLITE_FILE!, { force: true })
    }
    cleanup(async () => {
      await db.manager.close('catch_up').catch(() => {})
      db.manager.release('catch_up')
      if (postgres) await db.rawQuery(`drop database if exists ${database.PG_DB_NAME}`)
      else
        for (const suffix of ['', '-wal', '-shm'])
          await rm(`${database.SQLITE_FILE}${suffix}`, { force: true })
    })
    const env = { ...process.env, NODE_ENV: 'test', ...database }
    await ace(['migration:run', '--force'], env)

    const main = db.getRawConnection(db.primaryConnectionName)!.config
    db.manager.add('catch_up', {
      ...main,
      connection: postgres
        ? { ...(main.connection as object), database: database.PG_DB_NAME }
        : { filename: database.SQLITE_FILE! },
    } as typeof main)
    const scratchDb = db.connection('catch_up')
    const now = DateTime.utc()
    const cdr = (startedAt: DateTime) => ({
      uuid: randomUUID(),
      direction: 'outbound',
      started_at: sqlTime(startedAt),
    })
    const [oldRow, recentRow] = [cdr(now.minus({ months: 7 })), cdr(now.minus({ days: 1 }))]
    await scratchDb.table('call_records').multiInsert([oldRow, recentRow])
    assert.lengthOf(await scratchDb.from('job_runs').whereNotNull('last_success_at'), 0)

    const ports = { sip: await freePort('udp'), http: await freePort('tcp') }
    const server = await startServer(
      {
        ...env,
        JOBS_CATCH_UP: 'true',
        HOST: '127.0.0.1',
        PORT: String(ports.http),
        SIP_TRANSPORTS: 'udp',
        SIP_UDP_PORT: String(ports.sip),
        NODE_ID: 'catch-up-node',
        // With Redis (the PostgreSQL run): BullMQ under a prefix of its own, or the test
        // process's worker would take the scratch node's jobs to the test database
        REDIS_PREFIX: `${process.env.REDIS_PREFIX ?? ''}${scratch}:`,
      },
      ports.sip
    )
    cleanup(() => {
      server.child.kill('SIGKILL')
    })

    const run = await until('the retention job caught up', 20_000, async () =>
      scratchDb
        .from('job_runs')
        .where('job', 'calls.call_data_retention')
        .whereNotNull('last_success_at')
        .first()
    )
    assert.isNotNull(run.last_success_at)
    const left = await scratchDb.from('call_records').select('uuid')
    assert.deepEqual(
      left.map((row) => row.uuid),
      [recentRow.uuid],
      'the 7-month-old CDR is gone, yesterday’s stays'
    )
    server.child.kill('SIGTERM')
    assert.deepEqual(await server.exited, { code: 0, signal: null }, server.stderr())
  }).timeout(90_000)
})
