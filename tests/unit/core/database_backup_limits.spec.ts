import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from '@japa/runner'
import DatabaseBackup, { BackupFailed } from '#core/backups/database_backup'

/**
 * A pg_dump that never finishes (waiting on a lock, a stalled network) must end as a failure the
 * job reports, not hold the hourly check for ever: the tool is killed after its limit and the
 * half-written file is removed. A stand-in pg_dump on PATH records its arguments and sleeps.
 */
test.group('Database backup: bounded tool runs', (group) => {
  let bin: string
  let dir: string
  const path = process.env.PATH

  group.each.setup(async () => {
    bin = await mkdtemp(join(tmpdir(), 'fluffycall-fake-pg-'))
    dir = await mkdtemp(join(tmpdir(), 'fluffycall-backups-'))
    await writeFile(
      join(bin, 'pg_dump'),
      `#!/bin/sh\necho "$@" > "${bin}/args"\nfor a in "$@"; do case "$a" in --file=*) echo partial > "\${a#--file=}";; esac; done\nexec sleep 30\n`
    )
    await chmod(join(bin, 'pg_dump'), 0o755)
    process.env.PATH = `${bin}:${path}`
    return async () => {
      process.env.PATH = path
      await rm(bin, { recursive: true, force: true })
      await rm(dir, { recursive: true, force: true })
    }
  })

  test('a hung pg_dump is killed at its limit, reported, and leaves no file', async ({
    assert,
  }) => {
    const backup = new DatabaseBackup({ dir, keepDays: 14, toolLimitMs: 300 })
    const target = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'fluffycall' }
    const error = await backup.run(target).catch((caught) => caught)
    assert.instanceOf(error, BackupFailed)
    assert.match(error.message, /pg_dump did not finish within 300 ms/)
    assert.deepEqual(await readdir(dir), [], 'the partial dump is removed')
    assert.include(await readFile(join(bin, 'args'), 'utf8'), '--lock-wait-timeout=60s')
  })
})
