import { emergencyNumberOf, toE164Digits } from '#calls/routing/dialled_number'

/** A carrier as routing sees it; built from config plus the database state by the caller. */
export interface RoutableCarrier {
  name: string
  region: string
  /** Lifecycle `active`, enabled in config and database. Nothing else carries traffic. */
  active: boolean
  /** Processes signalling, media or metadata outside the EU/EEA. */
  outsideEea: boolean
  /** Position in the region's emergency list, null when not listed. */
  emergencyRank: number | null
  /** Short codes this carrier accepts (profile.emergency.numbers). */
  emergencyNumbers: string[]
}

export interface RouteEntry {
  region: string
  /** E.164 digits without "+"; "" is the region's default route. */
  prefix: string
  carrierName: string
  priority: number
  weight: number
}

export interface RoutingCompany {
  region: string
  dataResidency: 'eu_only' | 'any_with_safeguards'
  /** Country for national numbers ("030…" from a DE company is +49 30…). */
  country: string
  /** Carriers the company objected to (Art. 28(2) GDPR). */
  objections: readonly string[]
}

export interface RouteRequest {
  dialled: string
  company: RoutingCompany
  routes: readonly RouteEntry[]
  carriers: readonly RoutableCarrier[]
  /** Injected so tests decide weighted choices; Math.random in production. */
  random?: () => number
}

export type RefusalReason =
  | 'invalid_number'
  | 'no_route'
  | 'no_active_carrier'
  | 'all_carriers_objected'
  | 'eu_only_no_carrier'

export type RouteResolution =
  | {
      outcome: 'route'
      emergency: boolean
      destination: string
      prefix: string | null
      carriers: string[]
    }
  | { outcome: 'refused'; emergency: boolean; reason: RefusalReason; destination: string | null }

/**
 * Resolves where a call goes: the carriers to try, in failover order. Pure: everything it needs is
 * passed in, so every rule (emergency first, longest prefix, priority, weight, residency,
 * objections) is tested without a database.
 */
export function resolveRoute(request: RouteRequest): RouteResolution {
  const random = request.random ?? Math.random
  const regionCarriers = request.carriers.filter(
    (carrier) => carrier.region === request.company.region
  )

  const emergency = emergencyNumberOf(request.dialled)
  if (emergency) {
    // § 164 TKG: emergency calls always go out; residency and objections do not apply here.
    const candidates = regionCarriers
      .filter((carrier) => carrier.active && carrier.emergencyNumbers.includes(emergency))
      .sort(
        (a, b) =>
          (a.emergencyRank ?? Number.MAX_SAFE_INTEGER) -
            (b.emergencyRank ?? Number.MAX_SAFE_INTEGER) || a.name.localeCompare(b.name)
      )
    if (!candidates.length)
      return {
        outcome: 'refused',
        emergency: true,
        reason: 'no_active_carrier',
        destination: emergency,
      }
    return {
      outcome: 'route',
      emergency: true,
      destination: emergency,
      prefix: null,
      carriers: candidates.map((c) => c.name),
    }
  }

  const destination = toE164Digits(request.dialled, request.company.country)
  if (!destination)
    return { outcome: 'refused', emergency: false, reason: 'invalid_number', destination: null }

  const byName = new Map(regionCarriers.map((carrier) => [carrier.name, carrier]))
  const matching = request.routes.filter(
    (route) => route.region === request.company.region && destination.startsWith(route.prefix)
  )
  const prefixes = [...new Set(matching.map((route) => route.prefix))].sort(
    (a, b) => b.length - a.length
  )
  if (!prefixes.length)
    return { outcome: 'refused', emergency: false, reason: 'no_route', destination }

  const objected = new Set(request.company.objections)
  let firstRefusal: RefusalReason | null = null
  // The longest prefix that still has a usable carrier wins; the most specific refusal is reported.
  for (const prefix of prefixes) {
    const entries = matching.filter((route) => route.prefix === prefix)
    const active = entries.filter((route) => byName.get(route.carrierName)?.active)
    const allowed = active.filter((route) => !objected.has(route.carrierName))
    const resident =
      request.company.dataResidency === 'eu_only'
        ? allowed.filter((route) => !byName.get(route.carrierName)!.outsideEea)
        : allowed
    if (resident.length) {
      return {
        outcome: 'route',
        emergency: false,
        destination,
        prefix,
        carriers: failoverOrder(resident, random),
      }
    }
    firstRefusal ??= !active.length
      ? 'no_active_carrier'
      : !allowed.length
        ? 'all_carriers_objected'
        : 'eu_only_no_carrier'
  }
  return { outcome: 'refused', emergency: false, reason: firstRefusal ?? 'no_route', destination }
}

/** Lower priority first; within one priority a weighted random order (weight 0 only after the others). */
export function failoverOrder(entries: readonly RouteEntry[], random: () => number) {
  const priorities = [...new Set(entries.map((entry) => entry.priority))].sort((a, b) => a - b)
  const order: string[] = []
  for (const priority of priorities) {
    const pool = entries.filter((entry) => entry.priority === priority)
    while (pool.length) {
      const total = pool.reduce((sum, entry) => sum + Math.max(entry.weight, 0), 0)
      let index = 0
      if (total > 0) {
        let point = random() * total
        index = pool.findIndex((entry) => (point -= Math.max(entry.weight, 0)) < 0)
        if (index === -1) index = pool.length - 1
      }
      order.push(pool.splice(index, 1)[0].carrierName)
    }
  }
  return [...new Set(order)]
}
