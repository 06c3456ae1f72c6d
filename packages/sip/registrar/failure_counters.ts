/**
 * Windowed counters shared by every node (in memory or in Redis), as the brute-force limiter
 * needs them. The application's counter store fits this shape; the stack does not know which
 * one it gets.
 */
export interface FailureCounters {
  /** Adds `by` to the counter of `key` in its current window and returns the new value. */
  increment(key: string, windowSeconds: number, by?: number): Promise<number>
  get(key: string): Promise<number>
  /** Several counters in one read (one round trip in Redis), in the order of `keys`. */
  getMany(keys: string[]): Promise<number[]>
  reset(key: string): Promise<void>
}
