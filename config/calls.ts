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
  /** A web phone's SIP WebSocket dropped without a close frame: its calls end after this long. */
  webPhoneReconnectGraceSeconds: number
}

const callsConfig: CallsConfig = {
  ringTimeoutSeconds: env.get('CALL_RING_TIMEOUT_SECONDS') ?? 30,
  drainSeconds: env.get('CALL_DRAIN_SECONDS') ?? 20,
  echoNumber: '*43',
  tryingTimeoutMs: 2000,
  nodeId: env.get('NODE_ID') ?? hostname(),
  webPhoneReconnectGraceSeconds: env.get('WEBPHONE_RECONNECT_GRACE_SECONDS') ?? 5,
}

export default callsConfig
