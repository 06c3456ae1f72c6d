import type { Binding } from '#sip/registrar/binding'

/** Who a binding belonged to in the stores' first format, before bindings carried a subject. */
export interface LegacyBindingOwner {
  userId: number
  companyId: number
  deviceId?: number
}

/**
 * The owner's subject for a binding stored in the first format, so that registrations made before
 * an upgrade keep ringing (a phone registers for up to an hour).
 */
export type LegacySubject = (owner: LegacyBindingOwner) => string

/**
 * Reads a binding as a store kept it (JSON); one of the first format gets its subject from
 * `legacySubject`. Undefined when it can be read neither way: the store leaves it out.
 */
export function readStoredBinding(
  value: string,
  legacySubject?: LegacySubject
): Binding | undefined {
  const stored = JSON.parse(value) as Binding & Partial<LegacyBindingOwner>
  if (typeof stored.subject === 'string') {
    return stored
  }
  if (!legacySubject || typeof stored.userId !== 'number' || typeof stored.companyId !== 'number') {
    return undefined
  }
  const { userId, companyId, deviceId, ...binding } = stored
  return {
    ...binding,
    subject: legacySubject({ userId, companyId, ...(deviceId !== undefined ? { deviceId } : {}) }),
  }
}
