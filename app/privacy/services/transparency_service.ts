import { inject } from '@adonisjs/core'
import SubProcessorRegistry, {
  type PublishedSccTransfer,
  type PublishedSubProcessor,
  type SubProcessorHistoryEntry,
} from '#core/services/sub_processor_registry'

export type { PublishedSubProcessor }
export type HistoryEntry = SubProcessorHistoryEntry

/**
 * Everything the public transparency pages say about sub-processors. The list comes from the
 * sources the modules registered in the core SubProcessorRegistry (calls: carriers, hosting,
 * email), so privacy depends on core only and the pages cannot drift from what routes calls.
 */
@inject()
export default class TransparencyService {
  constructor(protected registry: SubProcessorRegistry) {}

  async subProcessors(): Promise<PublishedSubProcessor[]> {
    return this.registry.published()
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
          mechanism: entry.metadata.transfers.find(
            (transfer) => transfer.country.toUpperCase() === country
          )!,
        })),
      }))
  }

  /** Sub-processors whose transfers rest on SCCs: the SCC page and its annex downloads. */
  async sccCarriers() {
    const list = await this.subProcessors()
    return list
      .map((entry) => ({
        entry,
        sccs: entry.metadata.transfers.filter(
          (transfer): transfer is PublishedSccTransfer => transfer.mechanism === 'scc'
        ),
      }))
      .filter((item) => item.sccs.length)
  }

  async sccFor(key: string) {
    return (await this.sccCarriers()).find((item) => item.entry.key === key) ?? null
  }

  /** Newest first. */
  async history(): Promise<HistoryEntry[]> {
    return this.registry.history()
  }
}
