import { monitorEventLoopDelay } from 'node:perf_hooks'
import type { MonitorCheck } from '#core/monitoring/types'

/** The 99th percentile of this process's event-loop delay since the last reading, in ms. */
export default class EventLoopCheck implements MonitorCheck {
  readonly name = 'event_loop'
  readonly scope = 'node' as const
  readonly #histogram: ReturnType<typeof monitorEventLoopDelay>

  constructor(readonly intervalSeconds = 60) {
    this.#histogram = monitorEventLoopDelay({ resolution: 20 })
    this.#histogram.enable()
  }

  async read() {
    const p99 = this.#histogram.percentile(99) / 1e6
    const max = this.#histogram.max / 1e6
    this.#histogram.reset()
    return [{ value: Math.round(p99), facts: { maxMs: Math.round(max) } }]
  }

  close() {
    this.#histogram.disable()
  }
}
