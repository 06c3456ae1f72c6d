import type { Binding } from '#sip/registrar/binding'

/**
 * The registrar's bindings: in memory on one process, in Redis once several nodes share them.
 * Both implementations pass the same contract tests. Expiry is decided by the store's clock, so
 * nothing expired is ever returned, whatever the backend does with its own TTLs.
 */
export interface BindingStore {
  /** Live bindings of an address-of-record, soonest expiry first. */
  list(aor: string): Promise<Binding[]>
  /**
   * Live bindings whose subject is `subject` or lies under it, over every address-of-record (the
   * owner names one party's desk phone, softphone and web phone `party/...`).
   */
  listForSubject(subject: string): Promise<Binding[]>
  /** Adds or replaces the binding of `binding.aor` for `binding.contactUri`. */
  save(binding: Binding): Promise<void>
  remove(binding: Pick<Binding, 'aor' | 'contactUri' | 'subject'>): Promise<void>
  /**
   * Removes every binding registered over a stream connection that has closed, and returns them:
   * such a client (a browser tab, a TCP phone) can be reached over no other way, and ringing it
   * until its expiry would only delay the calls. A binding since refreshed over another
   * connection stays.
   */
  removeByConnection(connectionId: string): Promise<Binding[]>
  /**
   * The same for a client behind a trusted front whose connection there closed (`flow` as in
   * X-FluffyCall-Source). Safe to run twice, and on every node at once.
   */
  removeByFlow(flow: string): Promise<Binding[]>
  close(): Promise<void>
}
