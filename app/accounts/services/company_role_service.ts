import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import OwnershipOffer from '#accounts/models/ownership_offer'
import Role from '#accounts/models/role'
import type User from '#accounts/models/user'
import AuditLog from '#accounts/services/audit_log'
import RoleChangedMailJob from '#accounts/jobs/role_changed_mail_job'
import queue from '#core/services/queue'
import type { CompanyRoleName } from '#accounts/permissions'

export const OWNERSHIP_OFFER_DAYS = 7

export class RoleChangeError extends Error {
  constructor(
    public code: 'own_role' | 'owners_only' | 'last_owner' | 'no_offer' | 'not_company_role'
  ) {
    super(code)
  }
}

/**
 * Role changes inside a customer company. Ownership is the one role nobody takes: only an owner
 * makes (by an offer the colleague accepts) or unmakes owners, nobody changes their own role
 * except an owner stepping down, and a company always keeps at least one active owner. Every
 * change is audited and mailed to the company's owners (through the job queue).
 *
 * The rules name the owner role itself: ownership is what the company's contract hangs on, not
 * a permission an admin can edit in the matrix.
 */
export default class CompanyRoleService {
  async #roleName(user: User, client?: TransactionClientContract) {
    return (
      await Role.query(client ? { client } : {})
        .where('id', user.roleId)
        .firstOrFail()
    ).name
  }

  async #activeOwnerIds(companyId: number, client: TransactionClientContract) {
    const owner = await Role.query({ client }).where('name', 'owner').firstOrFail()
    const rows = await client
      .from('users')
      .where('company_id', companyId)
      .where('role_id', owner.id)
      .whereNull('disabled_at')
      .select('id')
    return rows.map((row) => Number(row.id))
  }

  /**
   * Changes a colleague's role. Making someone owner only records an offer (returns 'offered');
   * the colleague accepts it with `acceptOwnership`.
   */
  async change(
    member: User,
    to: CompanyRoleName,
    actor: User,
    ip: string
  ): Promise<'changed' | 'offered' | 'unchanged'> {
    if (member.id === actor.id) throw new RoleChangeError('own_role')
    if (member.isStaff || member.companyId === null || member.companyId !== actor.companyId) {
      throw new RoleChangeError('not_company_role')
    }
    const actorIsOwner = (await this.#roleName(actor)) === 'owner'
    const from = await this.#roleName(member)
    if (from === to) return 'unchanged'
    if ((from === 'owner' || to === 'owner') && !actorIsOwner)
      throw new RoleChangeError('owners_only')
    if (to === 'owner') {
      await this.#offer(member, actor, ip)
      return 'offered'
    }
    await this.#assign(member, from, to, actor, ip)
    return 'changed'
  }

  async #offer(member: User, actor: User, ip: string) {
    const offer = await OwnershipOffer.create({
      companyId: member.companyId!,
      userId: member.id,
      offeredById: actor.id,
      expiresAt: DateTime.utc().plus({ days: OWNERSHIP_OFFER_DAYS }),
    })
    await AuditLog.record({
      action: 'company.ownership.offered',
      actor,
      companyId: member.companyId,
      target: { type: 'user', id: member.id },
      details: { offerId: offer.id },
      ip,
    })
  }

  /** The open ownership offer to this user, if any. */
  async openOffer(user: User) {
    if (user.companyId === null) return null
    return OwnershipOffer.query()
      .where('user_id', user.id)
      .where('company_id', user.companyId)
      .whereNull('accepted_at')
      .where('expires_at', '>', DateTime.utc().toSQL({ includeOffset: false })!)
      .orderBy('id', 'desc')
      .first()
  }

  /** The offered colleague accepts and becomes owner. */
  async acceptOwnership(user: User, ip: string) {
    const offer = await this.openOffer(user)
    if (!offer || user.disabledAt) throw new RoleChangeError('no_offer')
    const from = await this.#roleName(user)
    await this.#assign(user, from, 'owner', user, ip, async (trx) => {
      offer.useTransaction(trx)
      offer.acceptedAt = DateTime.utc()
      await offer.save()
    })
  }

  /** An owner hands back ownership and stays admin, while another active owner remains. */
  async stepDown(owner: User, ip: string) {
    if (owner.companyId === null || (await this.#roleName(owner)) !== 'owner')
      throw new RoleChangeError('owners_only')
    await this.#assign(owner, 'owner', 'admin', owner, ip)
  }

  /**
   * Writes the change, refusing (inside the transaction) to leave the company without an active
   * owner; audits it and hands the owners' mail to the queue.
   */
  async #assign(
    member: User,
    from: string,
    to: CompanyRoleName,
    actor: User,
    ip: string,
    alsoInTransaction?: (trx: TransactionClientContract) => Promise<void>
  ) {
    const role = await Role.findByOrFail('name', to)
    await db
      .transaction(async (trx) => {
        member.useTransaction(trx)
        member.roleId = role.id
        await member.save()
        if (from === 'owner' && (await this.#activeOwnerIds(member.companyId!, trx)).length === 0) {
          throw new RoleChangeError('last_owner')
        }
        await alsoInTransaction?.(trx)
        await AuditLog.record(
          {
            action: 'user.role.changed',
            actor,
            companyId: member.companyId,
            target: { type: 'user', id: member.id },
            details: { from, to },
            ip,
          },
          { client: trx }
        )
      })
      .catch(async (error) => {
        await member.refresh()
        throw error
      })
    await queue.dispatch(new RoleChangedMailJob(), {
      companyId: member.companyId!,
      userId: member.id,
      from,
      to,
    })
  }
}
