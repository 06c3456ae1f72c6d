import env from '#start/env'

/**
 * Scheduled pg_dump of the PostgreSQL database into BACKUP_DIR (nothing when unset, and never on
 * SQLite, whose file a file-system backup copies). Dumps older than BACKUP_KEEP_DAYS are deleted,
 * the newest one never.
 */
const backupConfig = {
  dir: env.get('BACKUP_DIR') || null,
  keepDays: env.get('BACKUP_KEEP_DAYS') ?? 14,
  intervalHours: env.get('BACKUP_INTERVAL_HOURS') ?? 24,
}

export type BackupConfig = typeof backupConfig
export default backupConfig
