/**
 * Shared counters over fixed time windows (rate limits, fraud counters). In memory on one process,
 * in Redis once several processes share the work; both implementations pass the same tests.
 */
export interface CounterStore {
  readonly driver: 'memory' | 'redis'
  /** Adds `by` to the counter of `key` in its current window and returns the new value. */
  increment(key: string, windowSeconds: number, by?: number): Promise<number>
  get(key: string): Promise<number>
  reset(key: string): Promise<void>
  close(): Promise<void>
}
