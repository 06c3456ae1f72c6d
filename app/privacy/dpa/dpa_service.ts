import { inject } from '@adonisjs/core'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import i18nManager from '@adonisjs/i18n/services/main'
import type Company from '#accounts/models/company'
import type User from '#accounts/models/user'
import Role from '#accounts/models/role'
import AuditLog from '#accounts/services/audit_log'
import DpaAcceptance from '#privacy/models/dpa_acceptance'
import DpaCatalogue, { type DpaLocale, type DpaVersion } from '#privacy/dpa/dpa_catalogue'
import { sealSnapshot, takeDpaSnapshot } from '#privacy/dpa/dpa_snapshot'
import TransparencyService from '#privacy/services/transparency_service'
import { LookupCache } from '#core/caching/lookup_changes'

/** Shared rows: read them, never change them. */
const latestAcceptances = new LookupCache<number, DpaAcceptance | null>({
  tables: ['dpa_acceptances'],
})

/**
 * Where a company stands with the DPA:
 * - `accepted`: the owner accepted the current version;
 * - `grace`: the company was a customer before the current version (an earlier acceptance, or it
 *   existed before the first version was published) and may call until `graceUntil`;
 * - `required`: no acceptance that counts; calls (except 110/112) are refused.
 */
export interface DpaStatus {
  state: 'accepted' | 'grace' | 'required'
  current: DpaVersion
  latest: DpaAcceptance | null
  graceUntil: DateTime | null
}

export class DpaAcceptanceError extends Error {
  constructor(readonly reason: 'not_owner' | 'company_inactive' | 'already_accepted') {
    super(`The DPA cannot be accepted: ${reason}`)
  }
}

/** The DPA (AVV, Art. 28 GDPR) of each company: status, acceptance, stored snapshots. */
@inject()
export default class DpaService {
  /** The clock; tests inject theirs. */
  now: () => DateTime = () => DateTime.utc()

  constructor(
    protected catalogue: DpaCatalogue,
    protected transparency: TransparencyService
  ) {}

  get versions() {
    return this.catalogue
  }

  /** Read by every call's gate: kept until an acceptance is written (#core/caching/lookup_changes). */
  async latestAcceptance(companyId: number) {
    return latestAcceptances.get(companyId, () =>
      DpaAcceptance.query()
        .where('company_id', companyId)
        .orderBy('accepted_at', 'desc')
        .orderBy('id', 'desc')
        .first()
    )
  }

  async status(company: Pick<Company, 'id' | 'createdAt'>): Promise<DpaStatus> {
    const now = this.now()
    const current = this.catalogue.current(now)
    const latest = await this.latestAcceptance(company.id)
    if (latest?.version === current.version)
      return { state: 'accepted', current, latest, graceUntil: null }
    const first = this.catalogue.versions[0]
    const firstPublished = DateTime.fromISO(first.publishedOn, { zone: 'Europe/Berlin' })
    const wasCustomer = latest !== null || company.createdAt < firstPublished
    const graceUntil = this.catalogue.graceEnd(current)
    if (wasCustomer && now < graceUntil) return { state: 'grace', current, latest, graceUntil }
    return { state: 'required', current, latest, graceUntil: null }
  }

  /** Whether the company's calls (other than 110/112) may go through now. */
  async callsAllowed(company: Pick<Company, 'id' | 'createdAt'>) {
    return (await this.status(company)).state !== 'required'
  }

  /** The text of `version` with today's annexes, as stored at an acceptance. */
  async sealedSnapshot(version: DpaVersion, locale: DpaLocale) {
    const text = await this.catalogue.text(version, locale)
    const today = this.now().setZone('Europe/Berlin').toISODate()!
    return sealSnapshot(
      await takeDpaSnapshot(version, text, i18nManager.locale(locale), this.transparency, today)
    )
  }

  async isOwner(user: User, company: Company) {
    if (user.companyId !== company.id || user.isStaff) return false
    const role = await Role.find(user.roleId)
    return role?.name === 'owner'
  }

  /**
   * The owner accepts the current version: the acceptance (who, when, version, IP) and the
   * snapshot of the text and annexes are stored, and the audit log records it.
   */
  async accept(
    company: Company,
    user: User,
    facts: { ip: string | null; locale: DpaLocale; version: string }
  ) {
    if (!(await this.isOwner(user, company))) throw new DpaAcceptanceError('not_owner')
    if (company.status === 'terminated') throw new DpaAcceptanceError('company_inactive')
    const now = this.now()
    const current = this.catalogue.current(now)
    // The owner accepts what the page showed; a version published in between asks again.
    if (facts.version !== current.version) throw new DpaAcceptanceError('already_accepted')
    const latest = await this.latestAcceptance(company.id)
    if (latest?.version === current.version) throw new DpaAcceptanceError('already_accepted')

    const sealed = await this.sealedSnapshot(current, facts.locale)
    return db.transaction(async (trx) => {
      const acceptance = await DpaAcceptance.create(
        {
          companyId: company.id,
          version: current.version,
          locale: facts.locale,
          acceptedByUserId: user.id,
          acceptedByName: user.fullName,
          acceptedByEmail: user.email,
          ip: facts.ip,
          acceptedAt: now,
          snapshot: sealed.json,
          snapshotHash: sealed.sha256,
        },
        { client: trx }
      )
      await AuditLog.record(
        {
          action: 'privacy.dpa.accepted',
          actor: user,
          companyId: company.id,
          target: { type: 'dpa_acceptance', id: acceptance.id },
          details: { version: current.version, locale: facts.locale, sha256: sealed.sha256 },
          ip: facts.ip,
        },
        { client: trx }
      )
      return acceptance
    })
  }
}
