import { readFile } from 'node:fs/promises'
import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import db from '@adonisjs/lucid/services/db'
import { freePort } from '#tests/support/sip_peers'
import { serverReady, startServer, until } from '#tests/support/server_process'

/**
 * SIGTERM while the call sweeper's first sweep waits on the database (here: a lock the test holds
 * on call_nodes). The sweep must finish before the database pool closes; a sweep left running used
 * to ask the closed pool for a connection and hold the process for the pool's acquire timeout
 * (60 s), which is how the backup/restore test "hung" in CI. PostgreSQL only (LOCK TABLE).
 */

const postgres = process.env.DB_CONNECTION === 'pg'

test.group('Calls: SIGTERM during a call sweep', () => {
  test('the sweep under way ends before the database closes; the process exits 0 at once', async ({
    assert,
    cleanup,
  }) => {
    const ports = { sip: await freePort('udp'), http: await freePort('tcp') }
    const lock = await db.transaction()
    cleanup(() => lock.rollback().catch(() => {}))
    await lock.rawQuery('LOCK TABLE call_nodes IN ACCESS EXCLUSIVE MODE')
    const server = await startServer(
      {
        ...process.env,
        NODE_ENV: 'test',
        HOST: '127.0.0.1',
        PORT: String(ports.http),
        SIP_TRANSPORTS: 'udp',
        SIP_UDP_PORT: String(ports.sip),
        NODE_ID: 'sweep-shutdown-node',
        CALL_DRAIN_SECONDS: '1',
      },
      ports.sip
    )
    cleanup(() => {
      server.child.kill('SIGKILL')
    })
    server.child.kill('SIGTERM')
    // Once HTTP is closed the providers shut down (the database last); then the sweep may go on
    await until(
      'HTTP closed after SIGTERM',
      20_000,
      async () => !(await serverReady(String(ports.http)))
    )
    await lock.rollback()
    // The server logs into tmp/logs/test-<pid>.log (config/logger.ts)
    const log = app.makePath('tmp', 'logs', `test-${server.child.pid}.log`)
    assert.deepEqual(await server.exited, { code: 0, signal: null }, server.stderr())
    const written = await readFile(log, 'utf8')
    assert.notInclude(written, 'Timeout acquiring a connection')
    assert.notInclude(written, 'call sweep failed')
  })
    .skip(!postgres, 'PostgreSQL only (LOCK TABLE)')
    .timeout(45_000)
})
