import { inject } from '@adonisjs/core'
import type User from '#accounts/models/user'
import AuditLog from '#accounts/services/audit_log'
import CarrierManager from '#calls/carriers/carrier_manager'
import CarrierRoute from '#calls/models/carrier_route'

export type RouteErrorCode = 'unknown_region' | 'carrier_not_in_region' | 'duplicate' | 'not_found'

export class RouteError extends Error {
  constructor(
    public code: RouteErrorCode,
    public field: 'region' | 'prefix' | 'carrier' | null
  ) {
    super(code)
  }
}

export interface RouteInput {
  /** E.164 digits without "+"; null or "" is the region's default route. */
  prefix: string | null
  carrier: string
  priority: number
  weight: number
}

interface Actor {
  actor: User
  ip: string
}

/**
 * Staff edits of the routing table: per region, destination prefix -> carriers with priority and
 * weight. A route may only name a carrier configured in its region; every change is audited with
 * the values before and after.
 */
@inject()
export default class RouteService {
  constructor(protected manager: CarrierManager) {}

  regions() {
    return Object.keys(this.manager.config.regions)
  }

  /** The configured carriers of a region, in config order. */
  carriersOf(region: string) {
    return this.manager.entries().filter((entry) => entry.region === region)
  }

  async list(region: string) {
    this.#region(region)
    return CarrierRoute.query()
      .where('region', region)
      .orderBy('prefix')
      .orderBy('priority')
      .orderBy('carrier_name')
  }

  async find(region: string, id: number) {
    return CarrierRoute.query().where('region', region).where('id', id).first()
  }

  async #existing(region: string, id: number) {
    const route = await this.find(region, id)
    if (!route) throw new RouteError('not_found', null)
    return route
  }

  async create(region: string, input: RouteInput, { actor, ip }: Actor) {
    const values = await this.#checked(region, input, null)
    const route = await CarrierRoute.create({ region, ...values })
    await this.#audit('route.created', route, { actor, ip }, { after: snapshot(route) })
    return route
  }

  async update(region: string, id: number, input: RouteInput, { actor, ip }: Actor) {
    const route = await this.#existing(region, id)
    const before = snapshot(route)
    route.merge(await this.#checked(region, input, route.id))
    await route.save()
    await this.#audit('route.updated', route, { actor, ip }, { before, after: snapshot(route) })
    return route
  }

  async delete(region: string, id: number, { actor, ip }: Actor) {
    const route = await this.#existing(region, id)
    await route.delete()
    await this.#audit('route.deleted', route, { actor, ip }, { before: snapshot(route) })
  }

  #region(region: string) {
    if (!this.regions().includes(region)) throw new RouteError('unknown_region', 'region')
  }

  async #checked(region: string, input: RouteInput, exceptId: number | null) {
    this.#region(region)
    const prefix = input.prefix ?? ''
    if (!this.carriersOf(region).some((entry) => entry.name === input.carrier)) {
      throw new RouteError('carrier_not_in_region', 'carrier')
    }
    const clash = CarrierRoute.query().where({ region, prefix, carrier_name: input.carrier })
    if (exceptId !== null) clash.whereNot('id', exceptId)
    if (await clash.first()) throw new RouteError('duplicate', 'prefix')
    return { prefix, carrierName: input.carrier, priority: input.priority, weight: input.weight }
  }

  async #audit(
    action: string,
    route: CarrierRoute,
    { actor, ip }: Actor,
    details: Record<string, unknown>
  ) {
    await AuditLog.record({
      action,
      actor,
      companyId: null,
      target: { type: 'carrier_route', id: route.id },
      details: { region: route.region, ...details },
      ip,
    })
  }
}

function snapshot(route: CarrierRoute) {
  return {
    prefix: route.prefix,
    carrier: route.carrierName,
    priority: route.priority,
    weight: route.weight,
  }
}
