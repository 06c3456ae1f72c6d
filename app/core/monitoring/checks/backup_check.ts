import type { MonitorCheck } from '#core/monitoring/types'
import type { BackupStatus } from '#core/backups/backup_status'

/** Hours since the newest database dump; null where backups are not configured (SQLite). */
export default class BackupCheck implements MonitorCheck {
  readonly name = 'backup'

  constructor(
    private status: () => Promise<BackupStatus>,
    readonly intervalSeconds = 900
  ) {}

  async read() {
    const status = await this.status()
    if (!status.configured) return []
    // Configured but none taken yet: as old as "never", which the rule must see
    const hours = status.ageSeconds === null ? Infinity : status.ageSeconds / 3600
    return [
      {
        value: Number.isFinite(hours) ? Math.round(hours * 10) / 10 : 1e9,
        facts: {
          lastBackup: status.latest ? status.latest.takenAt.toISOString() : null,
          dumps: status.files,
        },
      },
    ]
  }
}
