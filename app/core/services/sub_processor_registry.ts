import type { DateTime } from 'luxon'

/**
 * The seam between who runs sub-processors (calls: carriers, hosting and email from the carrier
 * config) and who publishes them (privacy: transparency pages, JSON, Atom, SCC annexes). Privacy
 * reads only this; a module that brings sub-processors registers a source at boot. The types
 * below are what gets published: the carrier contract's metadata must fit them (checked by tsc
 * where the calls module fills its source).
 */

export interface PublishedText {
  de: string
  en: string
}

export interface PublishedLocation {
  country: string
  dataCentre: string
}

export interface PublishedAdequacyTransfer {
  country: string
  mechanism: 'adequacy'
  reference: string
}

export interface PublishedSccTransfer {
  country: string
  mechanism: 'scc'
  module: 1 | 2 | 3 | 4
  reference: string
}

export type PublishedTransfer = PublishedAdequacyTransfer | PublishedSccTransfer

/** Who processes what, where, on which legal ground: the published part of a sub-processor. */
export interface PublishedMetadata {
  legalEntity: {
    name: string
    address: { street: string; postalCode: string; city: string; country: string }
  }
  entityCountry: string
  processing: {
    signalling: PublishedLocation[]
    media: PublishedLocation[]
    metadata: PublishedLocation[]
  }
  purpose: PublishedText
  dataCategories: readonly string[]
  transfers: PublishedTransfer[]
  since: string
  dpaUrl: string
  confirmed: boolean
}

/** One sub-processor as the public pages, the JSON list and the annexes show it. */
export interface PublishedSubProcessor {
  key: string
  label: string
  kind: 'carrier' | 'service'
  /** Carriers: `announced` until their effective date and activation, then `active`. */
  status: 'announced' | 'active'
  /** When it becomes or became active (announced carriers) or its `since` date. */
  effectiveDate: string
  region: string | null
  service: PublishedText | null
  metadata: PublishedMetadata
  /** Countries outside the EU/EEA where it processes. */
  outsideEea: string[]
}

/** One entry of the public history of sub-processor changes (page and Atom feed). */
export interface SubProcessorHistoryEntry {
  id: string
  key: string
  label: string
  change: 'announced' | 'activated' | 'withdrawn'
  effectiveDate: string
  recordedAt: DateTime
}

export interface SubProcessorSource {
  /** Sub-processors in use or announced, never development-only or disabled ones. */
  published(): Promise<PublishedSubProcessor[]>
  history(): Promise<SubProcessorHistoryEntry[]>
}

/** Container singleton: collects the sources modules register at boot and answers for all of them. */
export default class SubProcessorRegistry {
  #sources: Array<() => Promise<SubProcessorSource>> = []

  /** A factory, so the source (and what it needs) is built only when a page asks. */
  register(source: () => Promise<SubProcessorSource>) {
    this.#sources.push(source)
  }

  async published() {
    const lists = await Promise.all(
      this.#sources.map(async (source) => (await source()).published())
    )
    return lists.flat()
  }

  /** Newest first across all sources. */
  async history() {
    const lists = await Promise.all(this.#sources.map(async (source) => (await source()).history()))
    return lists.flat().sort((a, b) => b.recordedAt.toMillis() - a.recordedAt.toMillis())
  }
}
