import { Registry, collectDefaultMetrics } from 'prom-client'

/**
 * The one Prometheus registry of this process, scraped at /metrics. Each module defines its own
 * metrics in its `metrics/` folder against it. Labels never carry phone numbers, names, addresses
 * or company ids: only carrier names, causes, directions, route names and other closed sets.
 */
const metrics = new Registry()

let configured = false

/**
 * Process figures (event-loop lag, heap, GC, CPU, handles) and, with several processes, the
 * `node` label on every series (NODE_ID) so that each reports its own.
 */
export function configureMetrics(options: { nodeId?: string }) {
  if (configured) return
  configured = true
  if (options.nodeId) metrics.setDefaultLabels({ node: options.nodeId })
  collectDefaultMetrics({ register: metrics, prefix: '' })
}

export default metrics
