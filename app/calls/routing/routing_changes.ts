/**
 * Which version of the routing tables (carrier routes, carrier states, carrier objections, the
 * carrier configuration) this process has seen. RoutingService keeps the tables between calls
 * and reloads them when the version moved. The models bump it on every save and delete (again
 * when their transaction commits or rolls back); with Redis the calls provider also publishes
 * each bump, so every node reloads.
 */
let version = 0
let publish: (() => void) | undefined

export const ROUTING_CHANGED_CHANNEL = 'calls:routing-changed'

export function routingVersion() {
  return version
}

/** A routing table changed in this process: here and (through Redis, when set) on every node. */
export function routingChanged() {
  version += 1
  publish?.()
}

/** Another node announced a change. */
export function routingChangedElsewhere() {
  version += 1
}

/** The calls provider installs the Redis publication (and removes it on shutdown). */
export function publishRoutingChanges(publisher: (() => void) | undefined) {
  publish = publisher
}

/** What the calls provider needs of a Redis connection (the @adonisjs/redis manager has it). */
export interface RoutingChangesBus {
  subscribe(channel: string, handler: (message: string) => void): void
  unsubscribe(channel: string): Promise<unknown>
  publish(channel: string, message: string): Promise<unknown>
}

/**
 * Every node publishes its changes and reloads on the others' (the channel carries the
 * deployment's Redis prefix, as its keys do). Returns the way back (provider shutdown).
 */
export function shareRoutingChanges(
  bus: RoutingChangesBus,
  options: { prefix: string; nodeId: string }
) {
  const channel = `${options.prefix}${ROUTING_CHANGED_CHANNEL}`
  bus.subscribe(channel, (message) => {
    if (message !== options.nodeId) routingChangedElsewhere()
  })
  publishRoutingChanges(() => {
    // A lost publication leaves other nodes on old tables until the next change: logged by the
    // Redis connection's error handler, the call path does not wait for it.
    bus.publish(channel, options.nodeId).catch(() => {})
  })
  return async () => {
    publishRoutingChanges(undefined)
    await bus.unsubscribe(channel)
  }
}

/** A model hook: a row changed, in a transaction or not. */
export function routingRowChanged(row: {
  $trx?: { after(event: 'commit' | 'rollback', handler: () => void): void }
}) {
  routingChanged()
  // Read before its commit, the old row could be cached again; a rollback brings it back.
  row.$trx?.after('commit', routingChanged)
  row.$trx?.after('rollback', routingChanged)
}
