import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type User from '#accounts/models/user'
import AuditLog from '#accounts/services/audit_log'
import ProcessingRestriction, {
  type RestrictionGround,
} from '#privacy/models/processing_restriction'

export class RestrictionError extends Error {
  constructor(readonly reason: 'already_restricted' | 'not_restricted') {
    super(`Restriction not changed: ${reason}`)
  }
}

/**
 * Restriction of processing (Art. 18 GDPR) for one user, set and lifted by the company's admins
 * (FluffyCall is their processor) and audited. The clock is injectable.
 */
export default class RestrictionService {
  now: () => DateTime = () => DateTime.utc()

  async active(userId: number) {
    return ProcessingRestriction.query().where('user_id', userId).whereNull('lifted_at').first()
  }

  async restrict(
    actor: User,
    user: User,
    facts: { ground: RestrictionGround; note: string | null; ip: string | null }
  ) {
    return db.transaction(async (trx) => {
      const open = await ProcessingRestriction.query({ client: trx })
        .where('user_id', user.id)
        .whereNull('lifted_at')
        .forUpdate()
        .first()
      if (open) throw new RestrictionError('already_restricted')
      const restriction = await ProcessingRestriction.create(
        {
          userId: user.id,
          companyId: user.companyId,
          ground: facts.ground,
          note: facts.note,
          restrictedById: actor.id,
          restrictedAt: this.now(),
          liftedById: null,
          liftedAt: null,
        },
        { client: trx }
      )
      await AuditLog.record(
        {
          action: 'privacy.restriction.set',
          actor,
          companyId: user.companyId,
          target: { type: 'user', id: user.id },
          details: { ground: facts.ground },
          ip: facts.ip,
        },
        { client: trx }
      )
      return restriction
    })
  }

  async lift(actor: User, user: User, facts: { ip: string | null }) {
    return db.transaction(async (trx) => {
      const open = await ProcessingRestriction.query({ client: trx })
        .where('user_id', user.id)
        .whereNull('lifted_at')
        .forUpdate()
        .first()
      if (!open) throw new RestrictionError('not_restricted')
      open.useTransaction(trx)
      open.liftedAt = this.now()
      open.liftedById = actor.id
      await open.save()
      await AuditLog.record(
        {
          action: 'privacy.restriction.lifted',
          actor,
          companyId: user.companyId,
          target: { type: 'user', id: user.id },
          details: { ground: open.ground },
          ip: facts.ip,
        },
        { client: trx }
      )
      return open
    })
  }
}
