import { randomUUID } from 'node:crypto'
import { type DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import { sqlTime } from '#core/sql_time'

/**
 * A traffic generator for the fraud detection: realistic CDR histories of a business (weekday
 * office hours, mostly domestic, some neighbours, a few inbound calls) and the recent calls whose
 * pattern a test wants to see detected. Deterministic (seeded), times in the company's zone.
 */

/** A small seeded PRNG (mulberry32), so histories are the same on every run. */
export function seeded(seed: number) {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let value = state
    value = Math.imul(value ^ (value >>> 15), value | 1)
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61)
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296
  }
}

export interface CdrSpec {
  companyId: number
  userId?: number | null
  direction?: 'outbound' | 'inbound'
  /** The other party: callee (outbound) or caller (inbound), E.164 with "+". */
  number: string
  startedAt: DateTime
  /** Answered seconds; null for an unanswered call. */
  answeredSeconds?: number | null
  refused?: boolean
  emergency?: boolean
}

function row(spec: CdrSpec) {
  const direction = spec.direction ?? 'outbound'
  const answered =
    spec.answeredSeconds !== null && spec.answeredSeconds !== undefined && !spec.refused
  const seconds = answered ? spec.answeredSeconds! : 0
  return {
    uuid: randomUUID(),
    company_id: spec.companyId,
    user_id: spec.userId ?? null,
    direction,
    emergency: spec.emergency ?? false,
    caller_number: direction === 'inbound' ? spec.number : '+4930555000',
    callee_number: direction === 'inbound' ? '+4930555000' : spec.number,
    caller_withheld: false,
    region: 'eu',
    node_id: 'fraud-traffic',
    started_at: sqlTime(spec.startedAt),
    answered_at: answered ? sqlTime(spec.startedAt.plus({ seconds: 5 })) : null,
    ended_at: sqlTime(spec.startedAt.plus({ seconds: 5 + seconds })),
    duration_seconds: answered ? seconds : null,
    disconnect_cause: spec.refused ? 'refused' : answered ? 'answered_normal' : 'no_answer',
    hung_up_by: 'caller',
  }
}

/** Writes CDRs (in chunks, one statement each); returns their ids in order. */
export async function writeCdrs(specs: CdrSpec[]): Promise<number[]> {
  const ids: number[] = []
  for (let start = 0; start < specs.length; start += 200) {
    const rows = specs.slice(start, start + 200).map(row)
    await db.table('call_records').multiInsert(rows)
    const written = await db
      .from('call_records')
      .whereIn(
        'uuid',
        rows.map((entry) => entry.uuid)
      )
      .select('id', 'uuid')
    const byUuid = new Map(written.map((entry) => [entry.uuid, Number(entry.id)]))
    ids.push(...rows.map((entry) => byUuid.get(entry.uuid)!))
  }
  return ids
}

/** A random number of a country's fixed network: "+4930" then 7 digits, and so on. */
export function randomNumber(prefix: string, random: () => number, digits = 7) {
  let rest = ''
  for (let index = 0; index < digits; index++) rest += Math.floor(random() * 10)
  return `${prefix}${rest}`
}

export interface HistoryOptions {
  companyId: number
  userIds: number[]
  /** Local "now": the history covers the weeks before its day. */
  now: DateTime
  timeZone?: string
  weeks?: number
  /** Outbound calls per working day. */
  callsPerDay?: number
  /** Destination prefixes with their share (default: 85 % Berlin, 10 % Vienna, 5 % Amsterdam). */
  destinations?: Array<{ prefix: string; share: number }>
  /** Inbound calls per working day (German callers). */
  inboundPerDay?: number
  seed?: number
}

/** A business's CDR history: Monday to Friday, 08:00-18:00 local, mostly domestic. */
export function businessHistory(options: HistoryOptions): CdrSpec[] {
  const random = seeded(options.seed ?? 14)
  const zone = options.timeZone ?? 'Europe/Berlin'
  const destinations = options.destinations ?? [
    { prefix: '+4930', share: 0.85 },
    { prefix: '+431', share: 0.1 },
    { prefix: '+3120', share: 0.05 },
  ]
  const today = options.now.setZone(zone).startOf('day')
  const specs: CdrSpec[] = []
  for (
    let day = today.minus({ weeks: options.weeks ?? 4 });
    day < today;
    day = day.plus({ days: 1 })
  ) {
    if (day.weekday >= 6) continue
    for (let index = 0; index < (options.callsPerDay ?? 20); index++) {
      let pick = random()
      const destination = destinations.find((entry) => (pick -= entry.share) < 0) ?? destinations[0]
      specs.push({
        companyId: options.companyId,
        userId: options.userIds[Math.floor(random() * options.userIds.length)],
        number: randomNumber(destination.prefix, random),
        startedAt: day.plus({ minutes: 8 * 60 + Math.floor(random() * 600) }),
        answeredSeconds: random() < 0.8 ? 30 + Math.floor(random() * 570) : null,
      })
    }
    for (let index = 0; index < (options.inboundPerDay ?? 5); index++) {
      specs.push({
        companyId: options.companyId,
        direction: 'inbound',
        number: randomNumber('+4989', random),
        startedAt: day.plus({ minutes: 8 * 60 + Math.floor(random() * 600) }),
        answeredSeconds: 20 + Math.floor(random() * 300),
      })
    }
  }
  return specs
}

/** `count` calls, one every `everySeconds` before `end` (the last one at `end`). */
export function burst(
  count: number,
  end: DateTime,
  everySeconds: number,
  call: (index: number) => Omit<CdrSpec, 'startedAt'>
): CdrSpec[] {
  return Array.from({ length: count }, (_, index) => ({
    ...call(index),
    startedAt: end.minus({ seconds: (count - 1 - index) * everySeconds }),
  }))
}
