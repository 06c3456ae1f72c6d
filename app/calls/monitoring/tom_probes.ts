import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import { sqlTime } from '#core/sql_time'
import JobRun from '#core/monitoring/job_run'
import type { TomProbe, TomProbeResult } from '#core/monitoring/tom_checks'
import type SubProcessorRegistry from '#core/services/sub_processor_registry'
import type CarrierDirectory from '#calls/services/carrier_directory'
import CallDataRetentionJob from '#calls/jobs/call_data_retention_job'

/** No CDR older than 6 months is in the database, and the retention job ran within two intervals. */
export function cdrRetentionProbe(): TomProbe {
  return {
    key: 'cdr_retention',
    async run(now): Promise<TomProbeResult> {
      const cutoff = DateTime.fromJSDate(now).minus({ months: 6 })
      const [{ total }] = await db
        .from('call_records')
        .where('started_at', '<', sqlTime(cutoff))
        .count('* as total')
      const older = Number(total)
      const run = await JobRun.findBy('job', new CallDataRetentionJob().name)
      const last = run?.lastSuccessAt ?? null
      const intervalSeconds = run?.intervalSeconds || 6 * 3600
      const recent =
        last !== null && DateTime.fromJSDate(now).diff(last).as('seconds') <= 2 * intervalSeconds
      return {
        ok: older === 0 && recent,
        facts: { olderThanSixMonths: older, lastSuccess: last?.toISO() ?? null },
      }
    },
  }
}

/**
 * Share of encrypted signalling and media legs over 30 days: the CDRs do not record the legs'
 * transport yet (the transport-encryption issue adds it), so there is nothing to judge.
 */
export function encryptedLegsProbe(): TomProbe {
  return {
    key: 'encrypted_legs',
    async run(): Promise<TomProbeResult> {
      return { ok: null, facts: { detail: 'legs_not_recorded' } }
    },
  }
}

/** Every carrier carrying traffic in the running configuration is on the published sub-processor list. */
export function subProcessorsProbe(
  directory: () => Promise<CarrierDirectory>,
  registry: () => Promise<SubProcessorRegistry>
): TomProbe {
  return {
    key: 'sub_processors',
    async run(): Promise<TomProbeResult> {
      const active = (await (await directory()).all())
        .filter((view) => view.active && !view.plugin.developmentOnly)
        .map((view) => view.entry.name)
      const published = new Set((await (await registry()).published()).map((entry) => entry.key))
      const missing = active.filter((name) => !published.has(name))
      return {
        ok: missing.length === 0,
        facts: {
          activeCarriers: active.length,
          published: published.size,
          missing: missing.join(', ') || null,
        },
      }
    },
  }
}
