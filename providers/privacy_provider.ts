import type { ApplicationService } from '@adonisjs/core/types'
import { CallGateRegistry } from '#calls/gates/call_gate'
import type Company from '#accounts/models/company'
import DpaCatalogue from '#privacy/dpa/dpa_catalogue'

/**
 * The privacy module's seams: the DPA versions (one catalogue per process), the DPA and the
 * restriction (Art. 18) call gates (ahead of the fraud gate, so a refused call takes no fraud lease
 * or counter) and the DPA banner of the customer pages.
 */
export default class PrivacyProvider {
  constructor(protected app: ApplicationService) {}

  register() {
    this.app.container.singleton(DpaCatalogue, () => new DpaCatalogue())
  }

  async boot() {
    this.app.container.resolving(CallGateRegistry, async (gates) => {
      const { default: DpaGate } = await import('#privacy/gates/dpa_gate')
      const { default: DpaService } = await import('#privacy/dpa/dpa_service')
      const { default: RestrictionGate } = await import('#privacy/gates/restriction_gate')
      gates.register(new DpaGate(await this.app.container.make(DpaService)), { before: 'fraud' })
      gates.register(new RestrictionGate(), { before: 'fraud' })
    })
    // Art. 18: the users whose processing is restricted, for whoever must leave them out (fraud baselines)
    const { default: processingRestrictions } = await import('#core/processing_restrictions')
    const { restrictedUsersOfCompany } = await import('#privacy/restrictions')
    processingRestrictions.use({ restrictedUserIds: restrictedUsersOfCompany })
    // TDDDG § 10: call records under a billing dispute outlive the six months until released
    const { default: callRecordHolds } = await import('#core/call_record_holds')
    const { default: CallRecordHoldService } =
      await import('#privacy/services/call_record_hold_service')
    callRecordHolds.use({ openHolds: () => CallRecordHoldService.openHolds() })
    const { default: edge } = await import('edge.js')
    const { default: DpaService } = await import('#privacy/dpa/dpa_service')
    // The customer layout asks on every page: null once the current version is accepted.
    edge.global('dpaNotice', async (company: Company | undefined) => {
      if (!company) return null
      const status = await (await this.app.container.make(DpaService)).status(company)
      return status.state === 'accepted' ? null : status
    })
    // The staff's company page: an owner's pending termination (end date), null otherwise
    const { default: AccountTerminationService } =
      await import('#privacy/services/account_termination_service')
    edge.global('pendingTermination', async (companyId: number) =>
      new AccountTerminationService().pending(companyId)
    )
  }
}
