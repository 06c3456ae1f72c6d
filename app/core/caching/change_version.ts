/** What sharing a change needs of a Redis connection (the @adonisjs/redis manager has it). */
export interface ChangesBus {
  subscribe(channel: string, handler: (message: string) => void): void
  unsubscribe(channel: string): Promise<unknown>
  publish(channel: string, message: string): Promise<unknown>
}

/** A row a model hook saw saved or deleted, in a transaction or not. */
export interface ChangedRow {
  $trx?: { after(event: 'commit' | 'rollback', handler: () => void): void }
}

/**
 * The version of rows this process keeps between calls (the routing tables, the call lookups):
 * whoever keeps them reloads once the version moved. The models bump it on every save and delete
 * (again when their transaction commits or rolls back); with Redis each bump is also published on
 * `channel`, so every node reloads.
 */
export class ChangeVersion {
  #version = 0
  #publish: (() => void) | undefined

  constructor(readonly channel: string) {}

  get current() {
    return this.#version
  }

  /** A row changed in this process: here and (through Redis, when shared) on every node. */
  changed = () => {
    this.#version += 1
    this.#publish?.()
  }

  /** A model hook: a row changed, in a transaction or not. */
  rowChanged(row: ChangedRow) {
    this.changed()
    // Read again before its commit, the old row could be kept again; a rollback brings it back.
    row.$trx?.after('commit', this.changed)
    row.$trx?.after('rollback', this.changed)
  }

  /**
   * Every node publishes its changes and reloads on the others' (the channel carries the
   * deployment's Redis prefix, as its keys do). Returns the way back (provider shutdown).
   */
  share(bus: ChangesBus, options: { prefix: string; nodeId: string }) {
    const channel = `${options.prefix}${this.channel}`
    bus.subscribe(channel, (message) => {
      if (message !== options.nodeId) this.#version += 1
    })
    this.#publish = () => {
      // A lost publication leaves other nodes on old rows until the next change: logged by the
      // Redis connection's error handler, the call path does not wait for it.
      bus.publish(channel, options.nodeId).catch(() => {})
    }
    return async () => {
      this.#publish = undefined
      await bus.unsubscribe(channel)
    }
  }
}
