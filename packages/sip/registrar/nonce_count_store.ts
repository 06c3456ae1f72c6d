/**
 * Remembers the highest nonce count (nc) accepted per nonce, so a captured request cannot be
 * replayed (RFC 7616 3.4). In memory for one process, in Redis when several nodes answer REGISTERs.
 */
export interface NonceCountStore {
  /** Records `count` for `nonce` and returns true if it is higher than every count seen before. */
  advance(nonce: string, count: number, ttlSeconds: number): Promise<boolean>
  close(): Promise<void>
}
