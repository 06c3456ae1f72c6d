import { inject } from '@adonisjs/core'
import type Company from '#accounts/models/company'
import CarrierObjection from '#calls/models/carrier_objection'
import CarrierRoute from '#calls/models/carrier_route'
import CarrierDirectory from '#calls/services/carrier_directory'
import { resolveRoute, type RoutableCarrier } from '#calls/routing/route_resolver'

/** Loads what route resolution needs from config and database and hands it to the pure resolver. */
@inject()
export default class RoutingService {
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
      this.carriers(),
      CarrierRoute.query().where('region', company.region),
      CarrierObjection.query().where('company_id', company.id),
    ])
    return resolveRoute({
      dialled,
      company: {
        region: company.region,
        dataResidency: company.dataResidency,
        country: company.country,
        objections: objections.map((objection) => objection.carrierName),
      },
      routes,
      carriers,
      random,
    })
  }
}
