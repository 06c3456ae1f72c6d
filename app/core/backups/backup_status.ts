import app from '@adonisjs/core/services/app'
import { Gauge } from 'prom-client'
import metrics from '#core/services/metrics'
import DatabaseBackup, { type PgTarget } from '#core/backups/database_backup'
import type { BackupConfig } from '#config/backup'

export interface BackupStatus {
  /** BACKUP_DIR set and the database is PostgreSQL. */
  configured: boolean
  keepDays: number
  intervalHours: number
  latest: { takenAt: Date; bytes: number } | null
  ageSeconds: number | null
  files: number
}

/** Backups run only where there is something for pg_dump: BACKUP_DIR set, PostgreSQL in use. */
export function backupsConfigured(config: BackupConfig = app.config.get<BackupConfig>('backup')) {
  return Boolean(config.dir) && app.config.get<string>('database.connection') === 'pg'
}

/** The database the dumps are taken of (config/database.ts's `pg` connection). */
export function pgTarget(): PgTarget {
  const connection = app.config.get<any>('database.connections.pg.connection')
  return {
    host: connection.host,
    port: Number(connection.port),
    user: connection.user,
    password: connection.password || undefined,
    database: connection.database,
  }
}

export function databaseBackup(
  config: BackupConfig = app.config.get<BackupConfig>('backup'),
  now?: () => Date
) {
  return new DatabaseBackup({ dir: config.dir ?? '', keepDays: config.keepDays, now })
}

/** For the admin dashboard, the TOMs page and the alert rule "backup too old". */
export async function backupStatus(now?: () => Date): Promise<BackupStatus> {
  const config = app.config.get<BackupConfig>('backup')
  const base = { keepDays: config.keepDays, intervalHours: config.intervalHours }
  if (!backupsConfigured(config))
    return { configured: false, ...base, latest: null, ageSeconds: null, files: 0 }
  const backup = databaseBackup(config, now)
  const files = await backup.list()
  return {
    configured: true,
    ...base,
    latest: files[0] ? { takenAt: files[0].takenAt, bytes: files[0].bytes } : null,
    ageSeconds: await backup.ageSeconds(),
    files: files.length,
  }
}

new Gauge({
  name: 'fluffycall_backup_age_seconds',
  help: 'Seconds since the newest database dump in BACKUP_DIR was taken (absent when backups are off or none exists)',
  registers: [metrics],
  async collect() {
    this.reset()
    const status = await backupStatus().catch(() => null)
    if (status?.ageSeconds !== null && status?.ageSeconds !== undefined) this.set(status.ageSeconds)
  },
})

new Gauge({
  name: 'fluffycall_backup_latest_bytes',
  help: 'Size of the newest database dump in BACKUP_DIR',
  registers: [metrics],
  async collect() {
    this.reset()
    const status = await backupStatus().catch(() => null)
    if (status?.latest) this.set(status.latest.bytes)
  },
})
