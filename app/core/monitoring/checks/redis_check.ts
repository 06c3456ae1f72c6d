import type { CheckReading, MonitorCheck } from '#core/monitoring/types'

/**
 * Whether this node reaches Redis: 1 while a PING fails, 0 when it answers, no reading without
 * Redis configured (`ping` null: nothing to judge, the rule never fails). With
 * Redis out of reach calls are refused with 503 (the counters, leases and nonce counts live
 * there) and background jobs stop, so the rule raises it as critical. Per node: a node may lose
 * its way to Redis alone.
 */
export default class RedisCheck implements MonitorCheck {
  readonly name = 'redis'
  readonly scope = 'node' as const

  constructor(
    private ping: (() => Promise<unknown>) | null,
    readonly intervalSeconds = 60
  ) {}

  async read(): Promise<CheckReading[]> {
    if (!this.ping) return []
    try {
      await this.ping()
      return [{ value: 0 }]
    } catch (error) {
      return [
        { value: 1, facts: { error: error instanceof Error ? error.message : String(error) } },
      ]
    }
  }
}
