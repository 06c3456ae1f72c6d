import app from '@adonisjs/core/services/app'
import logger from '@adonisjs/core/services/logger'
import type { Job } from '#core/queue/types'
import { databaseBackup, pgTarget } from '#core/backups/backup_status'
import type { BackupConfig } from '#config/backup'

/**
 * Checks hourly and takes a pg_dump into BACKUP_DIR when the newest one is BACKUP_INTERVAL_HOURS
 * old (so restarts, which reset in-process timers, never postpone a backup); then the dumps older
 * than BACKUP_KEEP_DAYS go. A failure throws: the queue logs and counts it
 * (fluffycall_jobs_total{outcome="failed"}), and the backup age keeps growing until a success.
 */
export default class DatabaseBackupJob implements Job<{ force?: boolean }> {
  readonly name = 'core.database_backup'

  constructor(private readonly now: () => Date = () => new Date()) {}

  async handle(payload: { force?: boolean } = {}) {
    const config = app.config.get<BackupConfig>('backup')
    const backup = databaseBackup(config, this.now)
    const age = await backup.ageSeconds()
    // A minute of slack: an hourly check must not miss a daily dump by the seconds a dump takes.
    if (!payload.force && age !== null && age < config.intervalHours * 3600 - 60) return
    const result = await backup.run(pgTarget())
    logger.info(
      { file: result.file, bytes: result.bytes, deleted: result.deleted.length },
      'database backup written'
    )
  }
}
