import { inject } from '@adonisjs/core'
import { DateTime } from 'luxon'
import Company from '#accounts/models/company'
import type User from '#accounts/models/user'
import AuditLog from '#accounts/services/audit_log'
import CarrierManager from '#calls/carriers/carrier_manager'
import { mayActivate } from '#calls/carriers/carrier_validator'
import CredentialVault from '#calls/carriers/credential_vault'
import type { CredentialOverride } from '#calls/carriers/types'
import CarrierState from '#calls/models/carrier_state'
import CompanyNotice from '#calls/models/company_notice'
import SubProcessorChange from '#calls/models/sub_processor_change'
import CarrierDirectory, { type CarrierView } from '#calls/services/carrier_directory'
import CarrierAnnouncementMailJob from '#calls/jobs/carrier_announcement_mail_job'
import queue from '#core/services/queue'
import logger from '@adonisjs/core/services/logger'

export class CarrierLifecycleError extends Error {
  constructor(
    public code:
      | 'unknown'
      | 'not_allowed'
      | 'not_yet_effective'
      | 'date_in_past'
      | 'disabled_in_config'
      | 'unconfirmed_metadata'
  ) {
    super(code)
  }
}

/**
 * Staff changes to carriers: lifecycle announced -> active -> withdrawn, credentials, the
 * database kill switch. Announcing tells every customer company (notice + email to its privacy
 * contact) as Art. 28(2) GDPR expects; every change is audited, credentials never in clear.
 */
@inject()
export default class CarrierLifecycleService {
  constructor(
    protected manager: CarrierManager,
    protected directory: CarrierDirectory
  ) {}

  defaultEffectiveDate() {
    return DateTime.utc().startOf('day').plus({ days: this.manager.announcementNoticeDays })
  }

  async announce(name: string, actor: User, ip: string, effectiveDate?: DateTime) {
    const view = await this.#view(name)
    if (!view.entry.configEnabled) throw new CarrierLifecycleError('disabled_in_config')
    if (view.plugin.developmentOnly || !view.plugin.subProcessor)
      throw new CarrierLifecycleError('not_allowed')
    if (view.lifecycle === 'announced' || view.lifecycle === 'active')
      throw new CarrierLifecycleError('not_allowed')
    const effectiveAt = (effectiveDate ?? this.defaultEffectiveDate()).toUTC().startOf('day')
    if (effectiveAt < DateTime.utc().startOf('day')) throw new CarrierLifecycleError('date_in_past')

    const state = await this.#state(name)
    state.merge({
      lifecycle: 'announced',
      announcedAt: DateTime.utc(),
      effectiveAt,
      activatedAt: null,
      withdrawnAt: null,
    })
    await state.save()
    await SubProcessorChange.create({ carrierName: name, change: 'announced', effectiveAt })
    const notified = await this.#notifyCompanies(view, effectiveAt)
    await AuditLog.record({
      action: 'carrier.announced',
      actor,
      companyId: null,
      target: { type: 'carrier', id: name },
      details: { effectiveDate: effectiveAt.toISODate(), companiesNotified: notified },
      ip,
    })
    return state
  }

  /** `actor` null: the activation tick (CarrierActivationJob) at the effective date, audited as the system. */
  async activate(name: string, actor: User | null, ip: string | null) {
    const view = await this.#view(name)
    if (!view.entry.configEnabled) throw new CarrierLifecycleError('disabled_in_config')
    if (!mayActivate(view.plugin, this.manager.production))
      throw new CarrierLifecycleError('unconfirmed_metadata')
    // The loopback peer has no sub-processor, so there is nobody to announce it to.
    const direct = view.plugin.developmentOnly && view.lifecycle !== 'active'
    if (!direct && view.lifecycle !== 'announced') throw new CarrierLifecycleError('not_allowed')
    if (!direct && view.effectiveAt && view.effectiveAt > DateTime.utc())
      throw new CarrierLifecycleError('not_yet_effective')

    const state = await this.#state(name)
    state.merge({ lifecycle: 'active', activatedAt: DateTime.utc(), withdrawnAt: null })
    await state.save()
    if (!view.plugin.developmentOnly) {
      await SubProcessorChange.create({
        carrierName: name,
        change: 'activated',
        effectiveAt: state.activatedAt!,
      })
    }
    await AuditLog.record({
      action: 'carrier.activated',
      actor,
      companyId: null,
      target: { type: 'carrier', id: name },
      details: { by: actor ? 'staff' : 'system' },
      ip,
    })
    return state
  }

  async withdraw(name: string, actor: User, ip: string) {
    const view = await this.#view(name)
    if (view.lifecycle !== 'announced' && view.lifecycle !== 'active')
      throw new CarrierLifecycleError('not_allowed')
    const state = await this.#state(name)
    state.merge({ lifecycle: 'withdrawn', withdrawnAt: DateTime.utc() })
    await state.save()
    if (!view.plugin.developmentOnly) {
      await SubProcessorChange.create({
        carrierName: name,
        change: 'withdrawn',
        effectiveAt: state.withdrawnAt!,
      })
    }
    await AuditLog.record({
      action: 'carrier.withdrawn',
      actor,
      companyId: null,
      target: { type: 'carrier', id: name },
      details: { from: view.lifecycle },
      ip,
    })
    return state
  }

  /** Stores digest credentials encrypted; only the names of the changed fields reach the audit log. */
  async updateCredentials(name: string, credentials: CredentialOverride, actor: User, ip: string) {
    await this.#view(name)
    const changed = (['username', 'password'] as const).filter((field) => credentials[field])
    if (!changed.length) return
    const state = await this.#state(name)
    const current = CredentialVault.open(state.credentialsSealed)
    const next: CredentialOverride = { ...current }
    for (const field of changed) next[field] = credentials[field]
    state.credentialsSealed = CredentialVault.seal(next)
    state.credentialsUpdatedAt = DateTime.utc()
    await state.save()
    await this.manager.forget(name)
    // Which fields changed, never their values (the canary test reads every log line).
    logger.info({ carrier: name, fields: changed }, 'carrier credentials changed')
    await AuditLog.record({
      action: 'carrier.credentials.changed',
      actor,
      companyId: null,
      target: { type: 'carrier', id: name },
      details: { fields: changed },
      ip,
    })
  }

  /** The database switch: takes a carrier out of traffic at once (it cannot enable one config disabled). */
  async setEnabled(name: string, enabled: boolean, actor: User, ip: string) {
    await this.#view(name)
    const state = await this.#state(name)
    state.enabled = enabled
    await state.save()
    await AuditLog.record({
      action: 'carrier.enabled.changed',
      actor,
      companyId: null,
      target: { type: 'carrier', id: name },
      details: { enabled },
      ip,
    })
  }

  async #view(name: string): Promise<CarrierView> {
    const view = await this.directory.find(name)
    if (!view) throw new CarrierLifecycleError('unknown')
    return view
  }

  async #state(name: string) {
    return (
      (await CarrierState.findBy('carrier_name', name)) ??
      new CarrierState().merge({ carrierName: name, enabled: true, lifecycle: null })
    )
  }

  /** In-app notice now; the email per company goes through the job queue (CarrierAnnouncementMailJob). */
  async #notifyCompanies(view: CarrierView, effectiveAt: DateTime) {
    const companies = await Company.query().whereNot('status', 'terminated')
    const effectiveDate = effectiveAt.toISODate()!
    for (const company of companies) {
      await CompanyNotice.create({
        companyId: company.id,
        kind: 'carrier_announced',
        carrierName: view.entry.name,
        effectiveAt,
      })
      await queue.dispatch(new CarrierAnnouncementMailJob(), {
        companyId: company.id,
        carrierName: view.entry.name,
        effectiveDate,
      })
    }
    return companies.length
  }
}
