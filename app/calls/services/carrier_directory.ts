import { inject } from '@adonisjs/core'
import { DateTime } from 'luxon'
import CarrierManager, { type CarrierEntry } from '#calls/carriers/carrier_manager'
import { countriesOutsideEea } from '#calls/carriers/eea_countries'
import type { CarrierPlugin } from '#calls/carriers/types'
import CarrierState, { type CarrierLifecycle } from '#calls/models/carrier_state'

/** A configured carrier joined with its database state and its loaded plugin. */
export interface CarrierView {
  entry: CarrierEntry
  plugin: CarrierPlugin
  state: CarrierState | null
  lifecycle: CarrierLifecycle | null
  /** Config and database both enable it. */
  enabled: boolean
  /** Carries traffic: enabled and lifecycle `active`. */
  active: boolean
  /** Published: enabled, announced or active, with sub-processor metadata (never the loopback peer). */
  published: boolean
  effectiveAt: DateTime | null
  outsideEea: string[]
}

/** One place that answers "which carriers exist and in which state", for routing, admin and the public pages. */
@inject()
export default class CarrierDirectory {
  constructor(protected manager: CarrierManager) {}

  async all(): Promise<CarrierView[]> {
    const states = new Map((await CarrierState.all()).map((state) => [state.carrierName, state]))
    const views: CarrierView[] = []
    for (const entry of this.manager.entries()) {
      const plugin = await this.manager.use(entry.name)
      const state = states.get(entry.name) ?? null
      const lifecycle = state?.lifecycle ?? null
      const enabled = entry.configEnabled && (state?.enabled ?? true)
      views.push({
        entry,
        plugin,
        state,
        lifecycle,
        enabled,
        active: enabled && lifecycle === 'active',
        published:
          enabled &&
          !plugin.developmentOnly &&
          plugin.subProcessor !== null &&
          (lifecycle === 'active' || lifecycle === 'announced'),
        effectiveAt: state?.effectiveAt ?? null,
        outsideEea: countriesOutsideEea(plugin.subProcessor),
      })
    }
    return views
  }

  async find(name: string) {
    return (await this.all()).find((view) => view.entry.name === name) ?? null
  }

  async published() {
    return (await this.all()).filter((view) => view.published)
  }
}
