/**
 * The closed state of a stream connection and who wants to hear of it: each listener runs once,
 * at once when it is added after the close. A throwing listener does not stop the others.
 */
export default class CloseSignal {
  #closed = false
  #listeners: Array<() => void> = []

  constructor(private onListenerError: (error: unknown) => void) {}

  get closed(): boolean {
    return this.#closed
  }

  add(listener: () => void): void {
    if (this.#closed) {
      listener()
      return
    }
    this.#listeners.push(listener)
  }

  /** Marks the connection closed and notifies the listeners; later calls do nothing. */
  fire(): void {
    if (this.#closed) {
      return
    }
    this.#closed = true
    const listeners = this.#listeners
    this.#listeners = []
    for (const listener of listeners) {
      try {
        listener()
      } catch (error) {
        this.onListenerError(error)
      }
    }
  }
}
