/**
 * Parts of the app that take traffic only after their own start-up (the B2BUA recovers crashed
 * calls first) say so here; /readyz answers 503 until every one of them is ready and again while
 * one drains, so a load balancer sends nothing to a node that would refuse it.
 */
class Readiness {
  #states = new Map<string, 'starting' | 'ready' | 'draining'>()

  starting(part: string) {
    this.#states.set(part, 'starting')
  }

  ready(part: string) {
    this.#states.set(part, 'ready')
  }

  draining(part: string) {
    this.#states.set(part, 'draining')
  }

  /** Every registered part with its state. */
  get parts(): Record<string, 'starting' | 'ready' | 'draining'> {
    return Object.fromEntries(this.#states)
  }

  get allReady() {
    return [...this.#states.values()].every((state) => state === 'ready')
  }
}

const readiness = new Readiness()
export default readiness
