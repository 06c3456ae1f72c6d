import type { JobQueue } from '#core/queue/types'
import DatabaseBackupJob from '#core/jobs/database_backup_job'
import TomChecksJob from '#core/monitoring/tom_checks_job'
import { backupsConfigured } from '#core/backups/backup_status'
import type { BackupConfig } from '#config/backup'

const HOUR = 60 * 60 * 1000

/**
 * The database backup check every hour (the job dumps when the newest dump is due), where backups
 * are configured; the TOM checks of the public TOMs page every hour.
 */
export async function registerCoreJobs(queue: JobQueue, config: BackupConfig) {
  await queue.schedule(new TomChecksJob(), {}, { everyMs: HOUR })
  if (backupsConfigured(config)) {
    await queue.schedule(
      new DatabaseBackupJob(),
      {},
      { everyMs: Math.min(HOUR, config.intervalHours * HOUR) }
    )
  }
}
