import type Company from '#accounts/models/company'
import type User from '#accounts/models/user'
import AuditLog from '#accounts/services/audit_log'
import CarrierObjection from '#calls/models/carrier_objection'

/** A company's objection to a sub-processor: from then on its calls never use that carrier. */
export default class ObjectionService {
  async object(company: Company, carrierName: string, actor: User, ip: string) {
    const existing = await CarrierObjection.query()
      .where('company_id', company.id)
      .where('carrier_name', carrierName)
      .first()
    if (existing) return existing
    const objection = await CarrierObjection.create({
      companyId: company.id,
      carrierName,
      objectedById: actor.id,
    })
    await AuditLog.record({
      action: 'carrier.objected',
      actor,
      companyId: company.id,
      target: { type: 'carrier', id: carrierName },
      ip,
    })
    return objection
  }

  async objectionsOf(company: Company) {
    return new Set(
      (await CarrierObjection.query().where('company_id', company.id)).map((row) => row.carrierName)
    )
  }
}
