import { inject } from '@adonisjs/core'
import type Company from '#accounts/models/company'
import CarrierObjection from '#calls/models/carrier_objection'
import CarrierRoute from '#calls/models/carrier_route'
import CarrierDirectory from '#calls/services/carrier_directory'
import { resolveRoute, type RoutableCarrier } from '#calls/routing/route_resolver'
import { routingVersion } from '#calls/routing/routing_changes'

/**
 * Loads what route resolution needs from config and database and hands it to the pure resolver.
 * The tables (carriers and their states, a region's routes, a company's objections) are kept
 * between calls until one of them changes (#calls/routing/routing_changes: model hooks here,
 * Redis from other nodes): a call setup reads none of them from the database.
 */
@inject()
export default class RoutingService {
  #version = -1
  #carriers: Promise<RoutableCarrier[]> | undefined
  #routes = new Map<string, Promise<CarrierRoute[]>>()
  #objections = new Map<number, Promise<string[]>>()

  constructor(protected directory: CarrierDirectory) {}

  async carriers(): Promise<RoutableCarrier[]> {
    return (await this.directory.all()).map((view) => ({
      name: view.entry.name,
      region: view.entry.region,
      active: view.active,
      outsideEea: view.outsideEea.length > 0,
      emergencyRank: view.entry.emergencyRank,
      emergencyNumbers: view.plugin.profile.emergency.numbers,
    }))
  }

  async resolve(company: Company, dialled: string, random?: () => number) {
    const [carriers, routes, objections] = await Promise.all([
      this.#cached(() => (this.#carriers ??= this.carriers())),
      this.#cached(() =>
        this.#memo(this.#routes, company.region, async () =>
          // A query builder runs again each time it is awaited: the rows are what is kept.
          CarrierRoute.query().where('region', company.region).exec()
        )
      ),
      this.#cached(() =>
        this.#memo(this.#objections, company.id, async () =>
          (await CarrierObjection.query().where('company_id', company.id)).map(
            (objection) => objection.carrierName
          )
        )
      ),
    ])
    return resolveRoute({
      dialled,
      company: {
        region: company.region,
        dataResidency: company.dataResidency,
        country: company.country,
        objections,
      },
      routes,
      carriers,
      random,
    })
  }

  /** The tables as of now: dropped when the version moved; a failed load is not kept. */
  async #cached<T>(load: () => Promise<T>): Promise<T> {
    if (this.#version !== routingVersion()) {
      this.#version = routingVersion()
      this.#carriers = undefined
      this.#routes.clear()
      this.#objections.clear()
    }
    const version = this.#version
    try {
      return await load()
    } catch (error) {
      if (this.#version === version) {
        this.#carriers = undefined
        this.#routes.clear()
        this.#objections.clear()
      }
      throw error
    }
  }

  #memo<K, T>(map: Map<K, Promise<T>>, key: K, load: () => Promise<T>): Promise<T> {
    let value = map.get(key)
    if (!value) map.set(key, (value = load()))
    return value
  }
}
