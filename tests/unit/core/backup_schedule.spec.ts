import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import type { Job, JobQueue } from '#core/queue/types'
import { registerCoreJobs } from '#core/jobs/schedule'

function recordingQueue(scheduled: Array<{ name: string; everyMs: number }>): JobQueue {
  return {
    driver: 'in_process',
    register: () => {},
    dispatch: async () => {},
    schedule: async <P>(job: Job<P>, _payload: P, options: { everyMs: number }) => {
      scheduled.push({ name: job.name, everyMs: options.everyMs })
    },
    start: async () => {},
    drain: async () => {},
    close: async () => {},
    counts: async () => ({ waiting: 0, active: 0, delayed: 0 }),
  }
}

test.group('Backup schedule', () => {
  test('checked hourly where BACKUP_DIR is set on PostgreSQL, never otherwise', async ({
    assert,
  }) => {
    const off: Array<{ name: string; everyMs: number }> = []
    await registerCoreJobs(recordingQueue(off), { dir: null, keepDays: 14, intervalHours: 24 })
    // The TOM checks run hourly everywhere; backups only where configured
    assert.deepEqual(off, [{ name: 'core.tom_checks', everyMs: 3_600_000 }])

    const on: Array<{ name: string; everyMs: number }> = []
    await registerCoreJobs(recordingQueue(on), {
      dir: '/var/backups/fluffycall',
      keepDays: 14,
      intervalHours: 24,
    })
    const postgres = app.config.get('database.connection') === 'pg'
    assert.deepEqual(
      on.filter((job) => job.name === 'core.database_backup'),
      postgres ? [{ name: 'core.database_backup', everyMs: 3_600_000 }] : [],
      'SQLite has no pg_dump'
    )
  })
})
