import { statfs } from 'node:fs/promises'
import type { MonitorCheck } from '#core/monitoring/types'

/** Percent used of the fullest file system holding the given folders (database, tmp, backups). */
export default class DiskSpaceCheck implements MonitorCheck {
  readonly name = 'disk_space'
  readonly scope = 'node' as const

  constructor(
    private folders: () => string[],
    readonly intervalSeconds = 300
  ) {}

  async read() {
    let fullest: { percent: number; freeBytes: number } | null = null
    for (const folder of this.folders()) {
      const stats = await statfs(folder)
      const total = stats.blocks * stats.bsize
      if (!total) continue
      // Used as the administrator sees it: what is not available to us
      const percent = (1 - (stats.bavail * stats.bsize) / total) * 100
      if (!fullest || percent > fullest.percent)
        fullest = { percent, freeBytes: stats.bavail * stats.bsize }
    }
    if (!fullest) return [{ value: null }]
    return [
      {
        value: Math.round(fullest.percent * 10) / 10,
        facts: { freeGigabytes: Math.round(fullest.freeBytes / 1e8) / 10 },
      },
    ]
  }
}
