import { isUnder, reachKeyOf, subjectLevels, type Binding } from '#sip/registrar/binding'
import type { BindingStore } from '#sip/registrar/binding_store'

export default class MemoryBindingStore implements BindingStore {
  /** aor → contact URI → binding */
  #byAor = new Map<string, Map<string, Binding>>()
  /** subject level → the addresses-of-record registered under it */
  #aorsBySubject = new Map<string, Set<string>>()
  /** reach key (reachKeyOf: a stream connection or a front flow) → the [aor, contact URI] pairs */
  #byConnection = new Map<string, Map<string, [string, string]>>()

  constructor(private readonly now: () => number = Date.now) {}

  async list(aor: string): Promise<Binding[]> {
    return this.#live(aor)
  }

  async listForSubject(subject: string): Promise<Binding[]> {
    const live: Binding[] = []
    for (const aor of [...(this.#aorsBySubject.get(subject) ?? [])]) {
      live.push(...this.#live(aor).filter((binding) => isUnder(binding.subject, subject)))
    }
    return live.sort(byExpiry)
  }

  async save(binding: Binding): Promise<void> {
    const contacts = this.#byAor.get(binding.aor) ?? new Map<string, Binding>()
    const previous = contacts.get(binding.contactUri)
    if (previous) {
      this.#unindexConnection(previous)
    }
    contacts.set(binding.contactUri, structuredClone(binding))
    this.#byAor.set(binding.aor, contacts)
    for (const level of subjectLevels(binding.subject)) {
      const aors = this.#aorsBySubject.get(level) ?? new Set<string>()
      aors.add(binding.aor)
      this.#aorsBySubject.set(level, aors)
    }
    const reach = reachKeyOf(binding)
    if (reach !== undefined) {
      const pairs = this.#byConnection.get(reach) ?? new Map<string, [string, string]>()
      pairs.set(pairKey(binding), [binding.aor, binding.contactUri])
      this.#byConnection.set(reach, pairs)
    }
  }

  async remove(binding: Pick<Binding, 'aor' | 'contactUri' | 'subject'>): Promise<void> {
    const contacts = this.#byAor.get(binding.aor)
    const existing = contacts?.get(binding.contactUri)
    if (existing) {
      this.#unindexConnection(existing)
    }
    contacts?.delete(binding.contactUri)
    this.#forgetIfEmpty(binding.aor, binding.subject)
  }

  async removeByConnection(connectionId: string): Promise<Binding[]> {
    return this.#removeByReach(`connection:${connectionId}`)
  }

  async removeByFlow(flow: string): Promise<Binding[]> {
    return this.#removeByReach(`flow:${flow}`)
  }

  #removeByReach(reach: string): Binding[] {
    const pairs = this.#byConnection.get(reach)
    this.#byConnection.delete(reach)
    const removed: Binding[] = []
    for (const [aor, contactUri] of pairs?.values() ?? []) {
      const contacts = this.#byAor.get(aor)
      const binding = contacts?.get(contactUri)
      if (!binding || reachKeyOf(binding) !== reach) {
        continue
      }
      contacts!.delete(contactUri)
      this.#forgetIfEmpty(aor, binding.subject)
      removed.push(binding)
    }
    return removed.sort(byExpiry)
  }

  async close(): Promise<void> {
    this.#byAor.clear()
    this.#aorsBySubject.clear()
    this.#byConnection.clear()
  }

  /** The live bindings of an AOR; expired ones are dropped on the way. */
  #live(aor: string): Binding[] {
    const contacts = this.#byAor.get(aor)
    if (!contacts) {
      return []
    }
    const now = this.now()
    const live: Binding[] = []
    for (const [contactUri, binding] of contacts) {
      if (binding.expiresAt > now) {
        live.push(structuredClone(binding))
      } else {
        contacts.delete(contactUri)
        this.#unindexConnection(binding)
        this.#forgetIfEmpty(aor, binding.subject)
      }
    }
    return live.sort(byExpiry)
  }

  #unindexConnection(binding: Binding) {
    const reach = reachKeyOf(binding)
    if (reach === undefined) {
      return
    }
    const pairs = this.#byConnection.get(reach)
    pairs?.delete(pairKey(binding))
    if (pairs?.size === 0) {
      this.#byConnection.delete(reach)
    }
  }

  /** Once an AOR has no bindings left, it leaves the index of every level of `subject`. */
  #forgetIfEmpty(aor: string, subject: string) {
    if ((this.#byAor.get(aor)?.size ?? 0) > 0) {
      return
    }
    this.#byAor.delete(aor)
    for (const level of subjectLevels(subject)) {
      const aors = this.#aorsBySubject.get(level)
      aors?.delete(aor)
      if (aors?.size === 0) {
        this.#aorsBySubject.delete(level)
      }
    }
  }
}

function pairKey(binding: Pick<Binding, 'aor' | 'contactUri'>): string {
  return `${binding.aor}\n${binding.contactUri}`
}

function byExpiry(a: Binding, b: Binding) {
  return a.expiresAt - b.expiresAt || a.contactUri.localeCompare(b.contactUri)
}
