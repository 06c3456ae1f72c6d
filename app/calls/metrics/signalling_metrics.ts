import { Counter, Gauge, Histogram } from 'prom-client'
import metrics from '#core/services/metrics'
import type { SipTrafficStats } from '#sip'
import type { MediaEngineStats as EngineStats, MediaWorkerFigures } from '#media'

/*
 * The SIP stack's and the media engine's own counters (packages/sip, packages/media keep them
 * as plain numbers and know nothing of Prometheus), read when /metrics is scraped. Labels are
 * closed sets: directions, methods (others are 'other'), status classes, leg kinds.
 */

let traffic: (() => SipTrafficStats) | undefined
let media: (() => EngineStats) | undefined

export function watchSipTraffic(source: () => SipTrafficStats) {
  traffic = source
}

/** The media engine's counters (undefined: none). Returns the source watched before. */
export function watchMedia(source: (() => EngineStats) | undefined) {
  const previous = media
  media = source
  return previous
}

let mediaWorkers: (() => MediaWorkerFigures) | undefined

/** The media worker pool (MEDIA_WORKERS); undefined: the media runs in the main process. */
export function watchMediaWorkers(source: (() => MediaWorkerFigures) | undefined) {
  mediaWorkers = source
}

new Counter({
  name: 'fluffycall_sip_messages_total',
  help: 'SIP messages received (in) and sent (out): requests by method, responses by the method they answer and status class',
  labelNames: ['direction', 'kind', 'method', 'status_class'] as const,
  registers: [metrics],
  collect() {
    this.reset()
    for (const row of traffic?.().rows() ?? []) {
      this.inc(
        {
          direction: row.direction,
          kind: row.statusClass ? 'response' : 'request',
          method: row.method,
          status_class: row.statusClass ?? '',
        },
        row.count
      )
    }
  },
})

new Counter({
  name: 'fluffycall_sip_registrations_total',
  help: 'Our answers to REGISTER: accepted (2xx), challenged (401, 407) and refused (any other)',
  labelNames: ['outcome'] as const,
  registers: [metrics],
  collect() {
    this.reset()
    const outcomes = { accepted: 0, challenged: 0, refused: 0 }
    for (const [status, count] of traffic?.().registerAnswers ?? []) {
      if (status < 200) continue
      if (status < 300) outcomes.accepted += count
      else if (status === 401 || status === 407) outcomes.challenged += count
      else outcomes.refused += count
    }
    for (const [outcome, count] of Object.entries(outcomes)) this.inc({ outcome }, count)
  },
})

const simpleCounter = (name: string, help: string, read: (stats: SipTrafficStats) => number) =>
  new Counter({
    name,
    help,
    registers: [metrics],
    collect() {
      this.reset()
      const stats = traffic?.()
      if (stats) this.inc(read(stats))
    },
  })

simpleCounter(
  'fluffycall_sip_parse_failures_total',
  'SIP messages (datagrams or stream frames) the parser refused',
  (stats) => stats.parseFailures
)
simpleCounter(
  'fluffycall_sip_rate_limited_messages_total',
  'SIP messages dropped because their source was over its rate limit',
  (stats) => stats.rateLimitedMessages
)
simpleCounter(
  'fluffycall_sip_flood_limited_sources_total',
  'Times a source went over its rate limit (once per flood, not per message)',
  (stats) => stats.floodLimitedSources
)

new Gauge({
  name: 'fluffycall_media_legs',
  help: 'Open media legs on this node by kind (rtp: carriers and SIP phones, webrtc: browsers)',
  labelNames: ['kind'] as const,
  registers: [metrics],
  collect() {
    this.reset()
    const figures = media?.().figures()
    if (!figures) return
    for (const [kind, count] of Object.entries(figures.legs)) this.set({ kind }, count)
  },
})

new Gauge({
  name: 'fluffycall_media_bridges',
  help: 'Bridges relaying audio between two legs on this node now',
  registers: [metrics],
  collect() {
    this.reset()
    const figures = media?.().figures()
    if (figures) this.set(figures.bridges)
  },
})

new Counter({
  name: 'fluffycall_media_packets_total',
  help: 'RTP packets of all legs: received (accepted), sent (relayed to the peer, or echoed), rejected (wrong source, failed SRTP authentication), send_failed (refused by the operating system: full send buffer, no route, a refused address)',
  labelNames: ['outcome'] as const,
  registers: [metrics],
  collect() {
    this.reset()
    const figures = media?.().figures()
    if (!figures) return
    this.inc({ outcome: 'received' }, figures.packetsReceived)
    this.inc({ outcome: 'sent' }, figures.packetsSent)
    this.inc({ outcome: 'rejected' }, figures.packetsRejected)
    this.inc({ outcome: 'send_failed' }, figures.packetsSendFailed)
  },
})

new Counter({
  name: 'fluffycall_media_packets_expected_total',
  help: 'RTP packets the sequence numbers of the streams received on RTP legs said were sent',
  registers: [metrics],
  collect() {
    this.reset()
    const figures = media?.().figures()
    if (figures) this.inc(figures.packetsExpected)
  },
})

new Counter({
  name: 'fluffycall_media_packets_lost_total',
  help: 'RTP packets that never arrived on RTP legs (expected minus received, RFC 3550)',
  registers: [metrics],
  collect() {
    this.reset()
    const figures = media?.().figures()
    if (figures) this.inc(figures.packetsLost)
  },
})

new Gauge({
  name: 'fluffycall_media_jitter_max_ms',
  help: 'Highest interarrival jitter (RFC 3550) among the RTP legs receiving media now, in ms',
  registers: [metrics],
  collect() {
    this.reset()
    const figures = media?.().figures()
    if (figures?.jitterMs.length) this.set(Math.max(...figures.jitterMs))
  },
})

new Histogram({
  name: 'fluffycall_media_leg_jitter_ms',
  help: 'Interarrival jitter of each RTP leg when it closed, in ms',
  buckets: [1, 2, 5, 10, 20, 30, 50, 100, 200],
  registers: [metrics],
  collect() {
    for (const jitter of media?.().takeClosedJitter() ?? []) this.observe(jitter)
  },
})

new Gauge({
  name: 'fluffycall_media_workers',
  help: 'Media worker processes: configured (MEDIA_WORKERS) and alive (running now); 0 configured when the media runs in the main process',
  labelNames: ['state'] as const,
  registers: [metrics],
  collect() {
    this.reset()
    const figures = mediaWorkers?.()
    this.set({ state: 'configured' }, figures?.configured ?? 0)
    this.set({ state: 'alive' }, figures?.alive ?? 0)
  },
})

new Counter({
  name: 'fluffycall_media_worker_restarts_total',
  help: 'Media worker processes forked again since start, by reason: crashed (exited on its own) or hung (no heartbeat answer, killed)',
  labelNames: ['reason'] as const,
  registers: [metrics],
  collect() {
    this.reset()
    const figures = mediaWorkers?.()
    this.inc({ reason: 'crashed' }, figures?.restarts.crashed ?? 0)
    this.inc({ reason: 'hung' }, figures?.restarts.hung ?? 0)
  },
})
