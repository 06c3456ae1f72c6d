import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import { sqlTime } from '#core/sql_time'
import JobRun from '#core/monitoring/job_run'
import type { TomProbe, TomProbeResult } from '#core/monitoring/tom_checks'
import type SubProcessorRegistry from '#core/services/sub_processor_registry'
import type CarrierDirectory from '#calls/services/carrier_directory'
import CallDataRetentionJob from '#calls/jobs/call_data_retention_job'

/**
 * No CDR older than 6 months is in the database, and the retention job ran within two intervals
 * (of its first scheduling, before its first run).
 */
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
      // A job never scheduled here fails; one scheduled for the first time is judged from then on
      const recent = run !== null && run.intervalsSinceSuccess(DateTime.fromJSDate(now)) <= 2
      return {
        ok: older === 0 && recent,
        facts: { olderThanSixMonths: older, lastSuccess: run?.lastSuccessAt?.toISO() ?? null },
      }
    },
  }
}

/**
 * Share of encrypted signalling and media legs over 30 days, from the CDRs' per-leg flags (null
 * where a leg was never set up: refused calls, CDRs from before the flags). Passes when no leg of
 * a company's own phones went in the clear while the company asked for "encrypted only" (110/112
 * excepted: never refused for it); not applicable while no leg was recorded. A carrier's plain
 * leg lowers the share but is no failure: the carrier profile decides it, not the customer.
 */
export function encryptedLegsProbe(): TomProbe {
  return {
    key: 'encrypted_legs',
    async run(now): Promise<TomProbeResult> {
      const until = DateTime.fromJSDate(now)
      const window = (query: ReturnType<typeof db.from>) =>
        query
          .where('call_records.started_at', '>=', sqlTime(until.minus({ days: 30 })))
          .where('call_records.started_at', '<=', sqlTime(until))
      // One pass: per flag, how many legs have it set, and how many of those say encrypted.
      const flags = [
        'caller_signalling_encrypted',
        'callee_signalling_encrypted',
        'caller_media_encrypted',
        'callee_media_encrypted',
      ]
      const [totals] = await window(db.from('call_records')).select([
        ...flags.flatMap((flag) => [
          db.raw(`sum(case when ${flag} is null then 0 else 1 end) as ${flag}_legs`),
          db.raw(`sum(case when ${flag} then 1 else 0 end) as ${flag}_yes`),
        ]),
        // Issue 22: calls in which both browsers confirmed their end-to-end keys
        db.raw('sum(case when end_to_end_encrypted then 1 else 0 end) as end_to_end'),
      ])
      const number = (value: unknown) => Number(value ?? 0)
      const sum = (side: 'signalling' | 'media', what: 'legs' | 'yes') =>
        number(totals[`caller_${side}_encrypted_${what}`]) +
        number(totals[`callee_${side}_encrypted_${what}`])
      const legs = sum('signalling', 'legs')
      if (legs === 0) return { ok: null, facts: { detail: 'no_legs_recorded' } }
      const share = (part: number, whole: number) =>
        whole === 0 ? null : Math.round((part / whole) * 1000) / 10
      // The company's own legs: the caller's when it calls, the callee's when it is called.
      const plain = (side: 'caller' | 'callee') => (query: any) =>
        query
          .whereIn('call_records.direction', side === 'caller' ? OWN_CALLER : OWN_CALLEE)
          .where((leg: any) =>
            leg
              .where(`call_records.${side}_signalling_encrypted`, false)
              .orWhere(`call_records.${side}_media_encrypted`, false)
          )
      const [{ total: againstPolicy }] = await window(db.from('call_records'))
        .join('companies', 'companies.id', 'call_records.company_id')
        .where('companies.encrypted_only', true)
        .where('call_records.emergency', false)
        .where((either) => either.where(plain('caller')).orWhere(plain('callee')))
        .count('* as total')
      return {
        ok: number(againstPolicy) === 0,
        facts: {
          legsRecorded: legs,
          signallingEncryptedPercent: share(sum('signalling', 'yes'), legs),
          mediaEncryptedPercent: share(sum('media', 'yes'), sum('media', 'legs')),
          plainAgainstPolicy: number(againstPolicy),
          endToEndEncryptedCalls: number(totals.end_to_end),
        },
      }
    },
  }
}

const OWN_CALLER = ['outbound', 'internal', 'echo_test']
const OWN_CALLEE = ['inbound', 'internal']

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
