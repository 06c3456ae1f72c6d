/*
 * V8's young-generation collector (the scavenger) copies the objects that survive it, by default
 * with helper threads beside the main thread. On the call server that costs more CPU than it
 * saves pause: a call's state lives for the whole call (and the SIP transactions' 64*T1 after
 * it), so every scavenge copies some 5 MB at 200 calls/s, and on a machine shared with
 * PostgreSQL, Redis and the SIP peers the helpers mostly wait for a core and for each other.
 * bench/README.md, eighteenth round of the call set-ups: helpers 32-136 ms of CPU per scavenge
 * for no shorter pause; without them, a few per cent less CPU per call (0.93-0.96 on PostgreSQL
 * + Redis, 0.94 on SQLite) for a longer pause on the main thread.
 */
import v8 from 'node:v8'

export interface GarbageCollectorSettings {
  /** V8_PARALLEL_SCAVENGE: let helper threads copy the survivors too (V8's own default) */
  parallelScavenge: boolean
}

/** The V8 options these settings stand for, as `node` would take them on its command line. */
export function garbageCollectorFlags(settings: GarbageCollectorSettings): string[] {
  return settings.parallelScavenge ? [] : ['--no-parallel-scavenge']
}

/** V8 reads this option at each scavenge, so setting it at boot takes effect for the process. */
export function applyGarbageCollectorSettings(settings: GarbageCollectorSettings) {
  for (const flag of garbageCollectorFlags(settings)) v8.setFlagsFromString(flag)
}
