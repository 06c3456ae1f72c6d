import { readFile } from 'node:fs/promises'
import { X509Certificate } from 'node:crypto'
import type { MonitorCheck } from '#core/monitoring/types'

/**
 * Days until the TLS certificate expires (negative once expired). Subjects are the configured
 * certificates by role ('sip'); none configured: nothing to judge.
 */
export default class TlsCertificateCheck implements MonitorCheck {
  readonly name = 'tls_certificate'

  constructor(
    private certificates: () => Array<{ role: string; path: string }>,
    readonly intervalSeconds = 3600
  ) {}

  async read(now: Date) {
    return Promise.all(
      this.certificates().map(async ({ role, path }) => {
        const certificate = new X509Certificate(await readFile(path))
        const validTo = new Date(certificate.validTo)
        const days = Math.floor((validTo.getTime() - now.getTime()) / 86_400_000)
        return {
          subject: role,
          value: days,
          facts: {
            certificate: role,
            validUntil: validTo.toISOString().slice(0, 10),
            daysLeft: days,
          },
        }
      })
    )
  }
}
