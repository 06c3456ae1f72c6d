import { inject } from '@adonisjs/core'
import { DateTime } from 'luxon'
import CarrierManager from '#calls/carriers/carrier_manager'
import { countriesOutsideEea } from '#calls/carriers/eea_countries'
import type { SubProcessorMetadata, SccTransfer, LocalisedText } from '#calls/carriers/types'
import SubProcessorChange from '#calls/models/sub_processor_change'
import CarrierDirectory from '#calls/services/carrier_directory'

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
  service: LocalisedText | null
  metadata: SubProcessorMetadata
  outsideEea: string[]
}

export interface HistoryEntry {
  id: string
  key: string
  label: string
  change: 'announced' | 'activated' | 'withdrawn'
  effectiveDate: string
  recordedAt: DateTime
}

/**
 * Everything the public transparency pages say about sub-processors, generated from the running
 * configuration and the carriers' lifecycle so that the pages cannot drift from what routes calls.
 * Development-only carriers (the loopback peer) and disabled ones never appear.
 */
@inject()
export default class TransparencyService {
  constructor(
    protected manager: CarrierManager,
    protected directory: CarrierDirectory
  ) {}

  async subProcessors(): Promise<PublishedSubProcessor[]> {
    const carriers: PublishedSubProcessor[] = (await this.directory.published()).map((view) => ({
      key: view.entry.name,
      label: view.entry.label,
      kind: 'carrier',
      status: view.lifecycle === 'active' ? 'active' : 'announced',
      effectiveDate: (view.effectiveAt ?? view.state?.activatedAt)?.toISODate() ?? view.plugin.subProcessor!.since,
      region: view.entry.region,
      service: null,
      metadata: view.plugin.subProcessor!,
      outsideEea: view.outsideEea,
    }))
    const services: PublishedSubProcessor[] = this.manager.nonCarrierSubProcessors.map((entry) => ({
      key: entry.key,
      label: entry.legalEntity.name,
      kind: 'service',
      status: 'active',
      effectiveDate: entry.since,
      region: null,
      service: entry.service,
      metadata: entry,
      outsideEea: countriesOutsideEea(entry),
    }))
    return [...services, ...carriers]
  }

  /** Carriers processing outside the EU/EEA, per region, with each country's mechanism. */
  async transfers() {
    const list = await this.subProcessors()
    return list
      .filter((entry) => entry.outsideEea.length)
      .map((entry) => ({
        entry,
        countries: entry.outsideEea.map((country) => ({
          country,
          mechanism: entry.metadata.transfers.find((transfer) => transfer.country.toUpperCase() === country)!,
        })),
      }))
  }

  /** Sub-processors whose transfers rest on SCCs: the SCC page and its annex downloads. */
  async sccCarriers() {
    const list = await this.subProcessors()
    return list
      .map((entry) => ({
        entry,
        sccs: entry.metadata.transfers.filter((transfer): transfer is SccTransfer => transfer.mechanism === 'scc'),
      }))
      .filter((item) => item.sccs.length)
  }

  async sccFor(key: string) {
    return (await this.sccCarriers()).find((item) => item.entry.key === key) ?? null
  }

  /** Newest first: the recorded carrier changes plus each non-carrier sub-processor's start. */
  async history(): Promise<HistoryEntry[]> {
    const labels = new Map(this.manager.entries().map((entry) => [entry.name, entry.label]))
    const developmentOnly = new Set<string>()
    for (const entry of this.manager.entries()) {
      if ((await this.manager.use(entry.name)).developmentOnly) developmentOnly.add(entry.name)
    }
    const changes = await SubProcessorChange.query().orderBy('created_at', 'desc').orderBy('id', 'desc')
    const carrierEntries: HistoryEntry[] = changes
      .filter((change) => labels.has(change.carrierName) && !developmentOnly.has(change.carrierName))
      .map((change) => ({
        id: `change-${change.id}`,
        key: change.carrierName,
        label: labels.get(change.carrierName)!,
        change: change.change,
        effectiveDate: change.effectiveAt.toISODate()!,
        recordedAt: change.createdAt,
      }))
    const serviceEntries: HistoryEntry[] = this.manager.nonCarrierSubProcessors.map((entry) => ({
      id: `service-${entry.key}`,
      key: entry.key,
      label: entry.legalEntity.name,
      change: 'activated',
      effectiveDate: entry.since,
      recordedAt: DateTime.fromISO(entry.since, { zone: 'utc' }),
    }))
    return [...carrierEntries, ...serviceEntries].sort((a, b) => b.recordedAt.toMillis() - a.recordedAt.toMillis())
  }
}
