import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'

/**
 * Event-loop time one purge batch may take. better-sqlite3 runs a statement synchronously on the
 * event loop, so a delete of many rows stalls SIP and media handling for its whole duration; the
 * batch is sized so that it stays below this (PostgreSQL runs off the loop, but short statements
 * keep locks and WAL bursts short there too).
 */
export const PURGE_BATCH_BUDGET_MS = 50

/** The sizer aims at half the budget, leaving room for a batch that runs twice as slow as the last. */
const TARGET_MS = PURGE_BATCH_BUDGET_MS / 2
const FIRST_BATCH = 200
const MIN_BATCH = 10
/**
 * Upper bound of a batch and the rest after it (3 x the batch's time, i.e. the purge works a
 * quarter of the time): on PostgreSQL a purge running flat out (10,000-row batches back to back)
 * made a concurrent writer's inserts wait up to 160-580 ms for the WAL; with these two the
 * longest wait was 55 ms at 2.4 M rows per minute (bench/README.md, "CDR purge").
 */
export const MAX_BATCH = 2000
export const REST_FACTOR = 3

/** The seam to the clock and the event loop (tests pass a simulated one; see call_retention.spec). */
export interface PurgeTimer {
  /** Runs one batch and says how long it took, in milliseconds. */
  measure(batch: () => Promise<number>): Promise<{ rows: number; ms: number }>
  /**
   * Rests between two batches: the event loop gets its turn (pending I/O, timers, SIP packets) and
   * the database its breath (`lastMs`: how long the batch before took).
   */
  pause(lastMs: number): Promise<void>
}

export const realPurgeTimer: PurgeTimer = {
  async measure(batch) {
    const started = performance.now()
    const rows = await batch()
    return { rows, ms: performance.now() - started }
  },
  pause: async (lastMs) => {
    await sleep(Math.min(lastMs * REST_FACTOR, 1000))
  },
}

/**
 * The next batch size from the last one: scaled so the measured time per row lands at TARGET_MS,
 * at most doubled at once (a cold cache makes the first batches look dearer than the rest) and
 * halved at least when a batch ran over the budget.
 */
export function nextBatchSize(size: number, rows: number, ms: number, maxBatch = MAX_BATCH) {
  if (rows <= 0) return size
  const perRow = Math.max(ms, 0.01) / rows
  let next = Math.floor(TARGET_MS / perRow)
  next = Math.min(next, size * 2)
  if (ms > PURGE_BATCH_BUDGET_MS) next = Math.min(next, Math.floor(size / 2))
  return Math.max(MIN_BATCH, Math.min(maxBatch, next))
}

/**
 * Deletes in batches until `deleteUpTo(n)` deletes fewer than n rows: each batch is timed, the next
 * one sized from it, and the event loop gets a turn between them. Returns the rows deleted.
 */
export async function purgeInBatches(
  deleteUpTo: (limit: number) => Promise<number>,
  timer: PurgeTimer = realPurgeTimer,
  onBatch?: (rows: number, ms: number) => void,
  maxBatch = MAX_BATCH
) {
  let size = Math.min(FIRST_BATCH, maxBatch)
  let total = 0
  for (;;) {
    const { rows, ms } = await timer.measure(() => deleteUpTo(size))
    total += rows
    onBatch?.(rows, ms)
    if (rows < size) return total
    size = nextBatchSize(size, rows, ms, maxBatch)
    await timer.pause(ms)
  }
}
