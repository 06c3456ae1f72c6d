import type { AlertFacts } from '#core/alerts/types'
import type { CheckReading, MonitorCheck } from '#core/monitoring/types'

/** What one TOM probe found: passed, failed, or nothing to judge here (ok null, with why). */
export interface TomProbeResult {
  ok: boolean | null
  facts?: AlertFacts
}

/**
 * An automated check proving one technical measure on the public TOMs page. Modules register
 * theirs at boot; `key` names its words (transparency.tom_checks.<key>).
 */
export interface TomProbe {
  key: string
  run(now: Date): Promise<TomProbeResult>
}

/** The order of the TOMs page. */
export const TOM_CHECK_KEYS = [
  'tls_certificate',
  'encrypted_legs',
  'cdr_retention',
  'audit_append_only',
  'login_lockout',
  'sub_processors',
  'backup_age',
] as const

/**
 * The TOM probes as one monitoring check ('toms', hourly): a reading per probe, 0 passed, 1 failed,
 * null nothing to judge. The rule tom_check_failed raises for a failed one, and one not run for two
 * hours counts as failed (shown red on the page too). A probe that throws has failed.
 */
export default class TomChecks implements MonitorCheck {
  readonly name = 'toms'
  readonly #probes = new Map<string, TomProbe>()

  constructor(readonly intervalSeconds = 3600) {}

  register(probe: TomProbe) {
    this.#probes.set(probe.key, probe)
  }

  get keys() {
    return [...this.#probes.keys()]
  }

  async read(now: Date): Promise<CheckReading[]> {
    const readings: CheckReading[] = []
    for (const probe of this.#probes.values()) {
      try {
        const result = await probe.run(now)
        readings.push({
          subject: probe.key,
          value: result.ok === null ? null : result.ok ? 0 : 1,
          facts: { measure: probe.key, ...(result.facts ?? {}) },
        })
      } catch (error) {
        readings.push({
          subject: probe.key,
          value: 1,
          facts: {
            measure: probe.key,
            detail: (error instanceof Error ? error.message : String(error)).slice(0, 200),
          },
        })
      }
    }
    return readings
  }
}
