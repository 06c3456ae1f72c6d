import { readFile } from 'node:fs/promises'
import { X509Certificate } from 'node:crypto'
import type { BackupStatus } from '#core/backups/backup_status'
import type { TomProbe, TomProbeResult } from '#core/monitoring/tom_checks'

const DAY = 86_400_000

/** The SIP TLS certificate is valid now and for at least 14 more days. */
export function tlsCertificateProbe(certificate: () => string | null): TomProbe {
  return {
    key: 'tls_certificate',
    async run(now): Promise<TomProbeResult> {
      const path = certificate()
      if (!path) return { ok: null, facts: { detail: 'no_certificate' } }
      const x509 = new X509Certificate(await readFile(path))
      const from = new Date(x509.validFrom)
      const to = new Date(x509.validTo)
      const daysLeft = Math.floor((to.getTime() - now.getTime()) / DAY)
      return {
        ok: from <= now && daysLeft >= 14,
        facts: { validUntil: to.toISOString().slice(0, 10), daysLeft },
      }
    },
  }
}

/** The newest database dump is younger than two backup intervals. */
export function backupAgeProbe(status: () => Promise<BackupStatus>): TomProbe {
  return {
    key: 'backup_age',
    async run(): Promise<TomProbeResult> {
      const backups = await status()
      if (!backups.configured) return { ok: null, facts: { detail: 'backups_postgres_only' } }
      const hours = backups.ageSeconds === null ? null : Math.round(backups.ageSeconds / 360) / 10
      return {
        ok: hours !== null && hours <= 2 * backups.intervalHours,
        facts: {
          lastBackup: backups.latest?.takenAt.toISOString() ?? null,
          ageHours: hours,
          everyHours: backups.intervalHours,
        },
      }
    },
  }
}
