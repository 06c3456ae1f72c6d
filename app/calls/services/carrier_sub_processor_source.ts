import { inject } from '@adonisjs/core'
import { DateTime } from 'luxon'
import CarrierManager from '#calls/carriers/carrier_manager'
import { countriesOutsideEea } from '#calls/carriers/eea_countries'
import SubProcessorChange from '#calls/models/sub_processor_change'
import CarrierDirectory from '#calls/services/carrier_directory'
import type {
  PublishedSubProcessor,
  SubProcessorHistoryEntry,
  SubProcessorSource,
} from '#core/services/sub_processor_registry'

/**
 * What the calls module publishes about its sub-processors, generated from the running carrier
 * configuration and lifecycle so that the public pages cannot drift from what routes calls:
 * active and announced carriers plus the configured non-carrier services (hosting, email).
 * Development-only carriers (the loopback peer) and disabled ones never appear.
 */
@inject()
export default class CarrierSubProcessorSource implements SubProcessorSource {
  constructor(
    protected manager: CarrierManager,
    protected directory: CarrierDirectory
  ) {}

  async published(): Promise<PublishedSubProcessor[]> {
    const carriers: PublishedSubProcessor[] = (await this.directory.published()).map((view) => ({
      key: view.entry.name,
      label: view.entry.label,
      kind: 'carrier',
      status: view.lifecycle === 'active' ? 'active' : 'announced',
      effectiveDate:
        (view.effectiveAt ?? view.state?.activatedAt)?.toISODate() ??
        view.plugin.subProcessor!.since,
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

  /** The recorded carrier changes plus each non-carrier sub-processor's start. */
  async history(): Promise<SubProcessorHistoryEntry[]> {
    const labels = new Map(this.manager.entries().map((entry) => [entry.name, entry.label]))
    const developmentOnly = new Set<string>()
    for (const entry of this.manager.entries()) {
      if ((await this.manager.use(entry.name)).developmentOnly) developmentOnly.add(entry.name)
    }
    const changes = await SubProcessorChange.query()
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
    const carrierEntries: SubProcessorHistoryEntry[] = changes
      .filter(
        (change) => labels.has(change.carrierName) && !developmentOnly.has(change.carrierName)
      )
      .map((change) => ({
        id: `change-${change.id}`,
        key: change.carrierName,
        label: labels.get(change.carrierName)!,
        change: change.change,
        effectiveDate: change.effectiveAt.toISODate()!,
        recordedAt: change.createdAt,
      }))
    const serviceEntries: SubProcessorHistoryEntry[] = this.manager.nonCarrierSubProcessors.map(
      (entry) => ({
        id: `service-${entry.key}`,
        key: entry.key,
        label: entry.legalEntity.name,
        change: 'activated',
        effectiveDate: entry.since,
        recordedAt: DateTime.fromISO(entry.since, { zone: 'utc' }),
      })
    )
    return [...carrierEntries, ...serviceEntries]
  }
}
