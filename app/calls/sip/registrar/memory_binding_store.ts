import type { Binding } from '#calls/sip/registrar/binding'
import type { BindingStore } from '#calls/sip/registrar/binding_store'

export default class MemoryBindingStore implements BindingStore {
  /** aor → contact URI → binding */
  #byAor = new Map<string, Map<string, Binding>>()
  /** user id → their addresses-of-record */
  #aorsByUser = new Map<number, Set<string>>()

  constructor(private readonly now: () => number = Date.now) {}

  async list(aor: string): Promise<Binding[]> {
    return this.#live(aor)
  }

  async listForUser(userId: number): Promise<Binding[]> {
    const live: Binding[] = []
    for (const aor of [...(this.#aorsByUser.get(userId) ?? [])]) {
      live.push(...this.#live(aor))
      this.#forgetIfEmpty(aor, userId)
    }
    return live.sort(byExpiry)
  }

  async save(binding: Binding): Promise<void> {
    const contacts = this.#byAor.get(binding.aor) ?? new Map<string, Binding>()
    contacts.set(binding.contactUri, structuredClone(binding))
    this.#byAor.set(binding.aor, contacts)
    const aors = this.#aorsByUser.get(binding.userId) ?? new Set<string>()
    aors.add(binding.aor)
    this.#aorsByUser.set(binding.userId, aors)
  }

  async remove(binding: Pick<Binding, 'aor' | 'contactUri' | 'userId'>): Promise<void> {
    this.#byAor.get(binding.aor)?.delete(binding.contactUri)
    this.#forgetIfEmpty(binding.aor, binding.userId)
  }

  async close(): Promise<void> {
    this.#byAor.clear()
    this.#aorsByUser.clear()
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
      }
    }
    if (contacts.size === 0) {
      this.#byAor.delete(aor)
    }
    return live.sort(byExpiry)
  }

  #forgetIfEmpty(aor: string, userId: number) {
    if ((this.#byAor.get(aor)?.size ?? 0) > 0) {
      return
    }
    this.#byAor.delete(aor)
    const aors = this.#aorsByUser.get(userId)
    aors?.delete(aor)
    if (aors?.size === 0) {
      this.#aorsByUser.delete(userId)
    }
  }
}

function byExpiry(a: Binding, b: Binding) {
  return a.expiresAt - b.expiresAt || a.contactUri.localeCompare(b.contactUri)
}
