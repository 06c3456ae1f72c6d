import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import { SourceList } from '#sip'
import type CarrierManager from '#calls/carriers/carrier_manager'

/**
 * Where our carriers signal from: each enabled carrier's host addresses (names resolved) and the
 * addresses or CIDRs its profile declares as signalling sources. The B2BUA recognises a
 * carrier's INVITE by it, and the SIP transport gives these sources the carriers' flood budget.
 * Resolved again after `maxAgeMs`, as DNS answers change, and at once when the carriers'
 * configuration is another (a test's fake, its restore): a name from the old one is unknown.
 */
export default class CarrierSources {
  #byCarrier: Array<{ name: string; sources: SourceList }> = []
  #entries: string[] = []
  #at = -Infinity
  #loadedFrom: unknown = null
  #refreshing: Promise<void> | undefined

  constructor(
    private readonly carriers: CarrierManager,
    private readonly onChange: (entries: string[]) => void = () => {},
    private readonly maxAgeMs = 60_000,
    private readonly now: () => number = Date.now
  ) {}

  /** The carrier a source address belongs to, or null. */
  async carrierAt(address: string): Promise<string | null> {
    if (this.now() - this.#at > this.maxAgeMs || this.carriers.config !== this.#loadedFrom)
      await this.refresh()
    return this.#byCarrier.find((entry) => entry.sources.has(address))?.name ?? null
  }

  /** Every address and CIDR of every enabled carrier. */
  get entries(): readonly string[] {
    return this.#entries
  }

  refresh(): Promise<void> {
    this.#refreshing ??= this.#load().finally(() => (this.#refreshing = undefined))
    return this.#refreshing
  }

  async #load() {
    const config = this.carriers.config
    const byCarrier: Array<{ name: string; sources: SourceList }> = []
    const all: string[] = []
    for (const entry of this.carriers.entries()) {
      if (!entry.configEnabled) continue
      const { profile } = await this.carriers.use(entry.name)
      const sources: string[] = [...(profile.signallingSources ?? [])]
      for (const host of profile.hosts) {
        if (isIP(host)) sources.push(host)
        else
          sources.push(
            ...(await lookup(host, { all: true })
              .then((found) => found.map((one) => one.address))
              .catch(() => []))
          )
      }
      byCarrier.push({ name: entry.name, sources: new SourceList(sources) })
      all.push(...sources)
    }
    this.#byCarrier = byCarrier
    this.#loadedFrom = config
    this.#at = this.now()
    const changed =
      all.length !== this.#entries.length ||
      all.some((entry, index) => entry !== this.#entries[index])
    this.#entries = all
    if (changed) this.onChange(all)
  }
}
