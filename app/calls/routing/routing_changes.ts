import { ChangeVersion, type ChangedRow, type ChangesBus } from '#core/caching/change_version'

/**
 * Which version of the routing tables (carrier routes, carrier states, carrier objections, the
 * carrier configuration) this process has seen. RoutingService keeps the tables between calls
 * and reloads them when the version moved; the models bump it (ChangeVersion), and with Redis
 * the calls provider shares it on calls:routing-changed.
 */
const routing = new ChangeVersion('calls:routing-changed')

export function routingVersion() {
  return routing.current
}

/** A routing table changed in this process: here and (through Redis, when set) on every node. */
export function routingChanged() {
  routing.changed()
}

/** A model hook: a routing row changed, in a transaction or not. */
export function routingRowChanged(row: ChangedRow) {
  routing.rowChanged(row)
}

/** Every node publishes its changes and reloads on the others'. Returns the way back. */
export function shareRoutingChanges(bus: ChangesBus, options: { prefix: string; nodeId: string }) {
  return routing.share(bus, options)
}
