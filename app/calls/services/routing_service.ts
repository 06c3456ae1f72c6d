import { inject } from '@adonisjs/core'
import logger from '@adonisjs/core/services/logger'
import type Company from '#accounts/models/company'
import CarrierObjection from '#calls/models/carrier_objection'
import CarrierRoute from '#calls/models/carrier_route'
import CarrierDirectory from '#calls/services/carrier_directory'
import {
  resolveRoute,
  type RoutableCarrier,
  type RouteEntry,
  type RouteResolution,
} from '#calls/routing/route_resolver'
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
    const resolution = resolveRoute({
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
    if (resolution.outcome === 'refused' && resolution.reason === 'no_active_carrier')
      this.#warnNoCarrier(company.region, resolution, routes, carriers)
    return resolution
  }

  /**
   * A route whose carriers are all gone or off refuses every call to it with 503; the CDR says
   * only `refused`. The operator learns here which carriers the routes name and what became of
   * them (a carrier removed from config/carriers.ts while routes still point at it, say). The
   * dialled number is not logged: the route's prefix tells where.
   */
  #warnNoCarrier(
    region: string,
    resolution: Extract<RouteResolution, { outcome: 'refused' }>,
    routes: readonly RouteEntry[],
    carriers: readonly RoutableCarrier[]
  ) {
    const known = new Map(carriers.map((carrier) => [carrier.name, carrier]))
    const named = (names: Iterable<string>) =>
      Object.fromEntries(
        [...new Set(names)].map((name) => {
          const carrier = known.get(name)
          const state = !carrier
            ? 'not configured'
            : carrier.region !== region
              ? `in region ${carrier.region}`
              : carrier.active
                ? 'active'
                : 'not active'
          return [name, state]
        })
      )
    if (resolution.emergency) {
      const number = resolution.destination ?? ''
      const listed = carriers.filter(
        (carrier) => carrier.region === region && carrier.emergencyNumbers.includes(number)
      )
      // § 164 TKG: an emergency call that cannot go out is an operational emergency of its own.
      logger.error(
        { region, emergency: number, carriers: named(listed.map((carrier) => carrier.name)) },
        'emergency call refused: no active carrier of the region takes this number'
      )
      return
    }
    const destination = resolution.destination ?? ''
    const matching = routes.filter(
      (route) => route.region === region && destination.startsWith(route.prefix)
    )
    logger.warn(
      {
        region,
        prefixes: [...new Set(matching.map((route) => route.prefix || '(default)'))],
        carriers: named(matching.map((route) => route.carrierName)),
      },
      'call refused: no active carrier for its route'
    )
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
