/**
 * Art. 18 GDPR: users whose personal data is under a restriction of processing may only have it
 * stored (and used for legal claims and the protection of others' rights). Analyses such as the
 * fraud baselines leave them out; gates that protect the company still apply to them.
 *
 * The seam between who records restrictions (privacy) and who must honour them: the privacy module
 * registers its source at boot. Until it records restrictions, nobody is restricted.
 */
export interface ProcessingRestrictionSource {
  /** The users of a company under a restriction of processing now. */
  restrictedUserIds(companyId: number): Promise<ReadonlySet<number>>
}

class ProcessingRestrictions implements ProcessingRestrictionSource {
  #source: ProcessingRestrictionSource | null = null

  /** The privacy module's source (tests register their own and restore with `null`). */
  use(source: ProcessingRestrictionSource | null) {
    this.#source = source
  }

  async restrictedUserIds(companyId: number): Promise<ReadonlySet<number>> {
    return this.#source ? this.#source.restrictedUserIds(companyId) : new Set()
  }
}

const processingRestrictions = new ProcessingRestrictions()
export default processingRestrictions
