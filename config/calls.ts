import { hostname } from 'node:os'
import env from '#start/env'

/** The B2BUA's settings (app/calls/b2bua). Media settings live in config/media.ts. */
export interface CallsConfig {
  /** Inbound calls ring this long, then the caller gets 480 and the call counts as missed. */
  ringTimeoutSeconds: number
  /** SIGTERM: new INVITEs get 503; running calls may finish for this long, then they are ended. */
  drainSeconds: number
  /** The echo-test number, answered by our own server (no carrier). */
  echoNumber: string
  /** No provisional response from a carrier within this time: the next carrier is tried. */
  tryingTimeoutMs: number
  /** Names this process's rows in active_call_legs; must stay the same across restarts. */
  nodeId: string
  /** Outbound calls ring this long at most; then the carrier gets CANCEL and the caller 480. */
  outboundRingLimitSeconds: number
  /** Calls this node carries at once; more get 503 with Retry-After (110/112 excepted). */
  maxConcurrentCalls: number
  /** New calls get 503 while the JavaScript heap is fuller than this share of its limit (110/112 excepted). */
  maxHeapPercent: number
  /** Retry-After of a 503 for a node that is out of capacity or shutting down. */
  retryAfterSeconds: number
  /** How often the node notes that it lives and closes the CDRs of calls that no longer exist. */
  sweepIntervalSeconds: number
  /** A node silent for this long is lost: any node closes its CDRs (node_lost) and BYEs its carrier legs. */
  nodeLostAfterSeconds: number
  /** After the drain deadline, BYEs and CANCELs get this long for their answers before the stack closes. */
  shutdownGraceMs: number
  /** A web phone's SIP WebSocket dropped without a close frame: its calls end after this long. */
  webPhoneReconnectGraceSeconds: number
  /** A call with a maximum duration (or a spend cap) plays the caller a warning tone this long before it ends. */
  durationWarningSeconds: number
}

/**
 * A released number rests this many months before it can be assigned again, so calls meant for
 * its former holder (a terminated customer's callers, its old business cards) do not reach a new one.
 */
export const NUMBER_QUARANTINE_MONTHS = env.get('NUMBER_QUARANTINE_MONTHS') ?? 6

const callsConfig: CallsConfig = {
  ringTimeoutSeconds: env.get('CALL_RING_TIMEOUT_SECONDS') ?? 30,
  drainSeconds: env.get('CALL_DRAIN_SECONDS') ?? 20,
  echoNumber: '*43',
  tryingTimeoutMs: 2000,
  nodeId: env.get('NODE_ID') ?? hostname(),
  outboundRingLimitSeconds: env.get('CALL_OUTBOUND_RING_LIMIT_SECONDS') ?? 180,
  maxConcurrentCalls: env.get('CALL_MAX_CONCURRENT') ?? 2000,
  maxHeapPercent: env.get('CALL_MAX_HEAP_PERCENT') ?? 90,
  retryAfterSeconds: 30,
  sweepIntervalSeconds: env.get('CALL_SWEEP_INTERVAL_SECONDS') ?? 30,
  nodeLostAfterSeconds: env.get('CALL_NODE_LOST_AFTER_SECONDS') ?? 300,
  shutdownGraceMs: 2000,
  webPhoneReconnectGraceSeconds: env.get('WEBPHONE_RECONNECT_GRACE_SECONDS') ?? 5,
  durationWarningSeconds: env.get('CALL_DURATION_WARNING_SECONDS') ?? 30,
}

export default callsConfig
