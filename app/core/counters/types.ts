/**
 * Shared counters over fixed time windows (rate limits, fraud counters). In memory on one process,
 * in Redis once several processes share the work; both implementations pass the same tests.
 */
export interface CounterStore {
  readonly driver: 'memory' | 'redis'
  /** Adds `by` to the counter of `key` in its current window and returns the new value. */
  increment(key: string, windowSeconds: number, by?: number): Promise<number>
  get(key: string): Promise<number>
  /** Several counters in one read (one round trip in Redis), in the order of `keys`. */
  getMany(keys: string[]): Promise<number[]>
  reset(key: string): Promise<void>
  /**
   * Checks and takes several counters at once, atomically (one Redis round trip, one synchronous
   * step in memory): refused when a check's counter has reached its limit or a lease is full, and
   * then nothing is taken; else every lease and count is added.
   */
  take(request: CounterTake): Promise<CounterTakeResult>
  close(): Promise<void>
}

export interface CounterTake {
  /** Must hold: the counter is below `below` (refused at `value >= below`); only read. */
  checks?: Array<{ key: string; below: number }>
  /** +1 each, unless that would take a lease above its limit; the window starts with the key. */
  leases?: Array<{ key: string; limit: number; windowSeconds: number }>
  /** Added (default 1) when taken; the window starts with the key. */
  counts?: Array<{ key: string; windowSeconds: number; by?: number }>
}

export type CounterTakeResult =
  /** `values`: the checks' counters as read, in their order. */
  | { taken: true; values: number[] }
  /** Which check (index into checks) or lease (index into leases) refused first. */
  | { taken: false; refused: { check: number } | { lease: number }; values: number[] }
