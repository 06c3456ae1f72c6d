import { Counter, Gauge, Histogram } from 'prom-client'
import metrics from '#core/services/metrics'
import type CallRecord from '#calls/models/call_record'
import type { CarrierHealth } from '#calls/carriers/types'

/*
 * What operators of a SIP platform watch, from the call events and the carrier health service:
 * labels are directions, carrier names (from config/carriers.ts), causes and states, never numbers,
 * users, companies or addresses.
 */

const attempts = new Counter({
  name: 'fluffycall_call_attempts_total',
  help: 'Call attempts (one CDR each) by direction',
  labelNames: ['direction'] as const,
  registers: [metrics],
})

const answered = new Counter({
  name: 'fluffycall_calls_answered_total',
  help: 'Answered calls by direction and carrier',
  labelNames: ['direction', 'carrier'] as const,
  registers: [metrics],
})

const ended = new Counter({
  name: 'fluffycall_calls_ended_total',
  help: 'Ended call attempts by direction, carrier (the last one tried; "none" before any) and disconnect cause',
  labelNames: ['direction', 'carrier', 'cause'] as const,
  registers: [metrics],
})

const setupSeconds = new Histogram({
  name: 'fluffycall_call_setup_seconds',
  help: 'Time from the call attempt (the INVITE reaching us) until the answer, by direction and carrier',
  labelNames: ['direction', 'carrier'] as const,
  buckets: [0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60],
  registers: [metrics],
})

const carrierLabel = (record: CallRecord) => record.carrierName ?? 'none'

/**
 * The CDRs this process counted as ended lately, oldest first: a repeated call:ended for the
 * same CDR (a retry, a second close) is counted once. Bounded; a repeat after 10,000 later calls
 * would count again, far beyond any retry.
 */
const RECENT_ENDED = 10_000
const recentlyEnded = new Set<string>()

/** By uuid: unique across nodes and databases (a test's rolled-back ids come again, uuids never). */
function firstEnd(record: CallRecord) {
  const id = record.uuid
  if (recentlyEnded.has(id)) return false
  recentlyEnded.add(id)
  if (recentlyEnded.size > RECENT_ENDED) {
    recentlyEnded.delete(recentlyEnded.values().next().value!)
  }
  return true
}

/** Listens to `call:attempted`, `call:answered` and `call:ended` (start/events.ts). */
export default class CallMetrics {
  attempted({ record }: { record: CallRecord }) {
    attempts.inc({ direction: record.direction })
  }

  answered({ record }: { record: CallRecord }) {
    const labels = { direction: record.direction, carrier: carrierLabel(record) }
    answered.inc(labels)
    if (record.answeredAt) {
      // (milliseconds apart, as luxon's diff gives them, without its Duration: issue 17)
      const seconds = (record.answeredAt.toMillis() - record.startedAt.toMillis()) / 1000
      setupSeconds.observe(labels, Math.max(0, seconds))
    }
  }

  ended({ record }: { record: CallRecord }) {
    if (!firstEnd(record)) return
    ended.inc({
      direction: record.direction,
      carrier: carrierLabel(record),
      cause: record.disconnectCause ?? 'unknown',
    })
  }
}

/** The calls running on this node, read when scraped (the B2BUA's own list, not a sum of events). */
let liveCalls: (() => Array<{ record: Pick<CallRecord, 'direction'> }>) | undefined
/** The carrier health service's snapshot, read when scraped. */
let carrierHealth: (() => Record<string, CarrierHealth>) | undefined

export function watchLiveCalls(source: typeof liveCalls) {
  liveCalls = source
}

export function watchCarrierHealth(source: typeof carrierHealth) {
  carrierHealth = source
}

new Gauge({
  name: 'fluffycall_calls_active',
  help: 'Calls running on this node now, by direction',
  labelNames: ['direction'] as const,
  registers: [metrics],
  collect() {
    this.reset()
    if (!liveCalls) return
    const counts: Record<string, number> = { outbound: 0, inbound: 0, echo_test: 0 }
    for (const call of liveCalls())
      counts[call.record.direction] = (counts[call.record.direction] ?? 0) + 1
    for (const [direction, count] of Object.entries(counts)) this.set({ direction }, count)
  },
})

const OPTIONS_STATES = ['up', 'down', 'unknown'] as const
const REGISTRATION_STATES = ['registered', 'failed', 'unknown', 'not_applicable'] as const

new Gauge({
  name: 'fluffycall_carrier_health',
  help: 'OPTIONS health of each watched carrier: 1 for its current state (up, down, unknown), 0 for the others',
  labelNames: ['carrier', 'state'] as const,
  registers: [metrics],
  collect() {
    this.reset()
    for (const [carrier, health] of Object.entries(carrierHealth?.() ?? {})) {
      for (const state of OPTIONS_STATES)
        this.set({ carrier, state }, health.options === state ? 1 : 0)
    }
  },
})

new Gauge({
  name: 'fluffycall_carrier_registration',
  help: 'Registration towards each watched carrier: 1 for its current state, 0 for the others',
  labelNames: ['carrier', 'state'] as const,
  registers: [metrics],
  collect() {
    this.reset()
    for (const [carrier, health] of Object.entries(carrierHealth?.() ?? {})) {
      for (const state of REGISTRATION_STATES)
        this.set({ carrier, state }, health.registration === state ? 1 : 0)
    }
  },
})

new Gauge({
  name: 'fluffycall_carrier_options_failures',
  help: 'OPTIONS rounds in a row without a usable answer, per watched carrier',
  labelNames: ['carrier'] as const,
  registers: [metrics],
  collect() {
    this.reset()
    for (const [carrier, health] of Object.entries(carrierHealth?.() ?? {})) {
      this.set({ carrier }, health.consecutiveFailures ?? 0)
    }
  },
})
