import type { StreamConnection } from '#calls/sip/transport/stream_connection'

/**
 * The open connections of one stream transport, by id and by remote host:port, so that a
 * response finds its connection and a new request reuses one to the same peer (RFC 3261 18.1.1).
 */
export default class ConnectionRegistry<T extends StreamConnection = StreamConnection> {
  #byId = new Map<string, T>()
  #byRemote = new Map<string, T>()

  add(
    connection: T,
    remoteKey: string = remoteKeyOf(connection.remoteAddress, connection.remotePort)
  ): void {
    this.#byId.set(connection.id, connection)
    this.#byRemote.set(remoteKey, connection)
    connection.onClose(() => {
      this.#byId.delete(connection.id)
      if (this.#byRemote.get(remoteKey) === connection) {
        this.#byRemote.delete(remoteKey)
      }
    })
  }

  get(id: string): T | undefined {
    const connection = this.#byId.get(id)
    return connection && !connection.closed ? connection : undefined
  }

  findByRemote(host: string, port: number): T | undefined {
    const connection = this.#byRemote.get(remoteKeyOf(host, port))
    return connection && !connection.closed ? connection : undefined
  }

  get size(): number {
    return this.#byId.size
  }

  /** Closes one connection; false when it is not (or no longer) open. */
  close(id: string): boolean {
    const connection = this.get(id)
    connection?.close()
    return connection !== undefined
  }

  closeAll(): void {
    for (const connection of [...this.#byId.values()]) {
      connection.close()
    }
  }
}

export function remoteKeyOf(host: string, port: number): string {
  return `${host.toLowerCase()}|${port}`
}
