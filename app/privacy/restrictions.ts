import db from '@adonisjs/lucid/services/db'
import { LookupCache } from '#core/caching/lookup_changes'

/** Asked on every call: kept until a restriction is written (#core/caching/lookup_changes). */
const restricted = new LookupCache<number, boolean>({ tables: ['processing_restrictions'] })

/**
 * Whether processing of a user's data is restricted (Art. 18 GDPR): the data is kept, but used for
 * nothing except storage and legal claims. Other modules read it here (fraud: leave the user out
 * of anomaly baselines; the privacy call gate refuses the user's calls). One indexed query.
 */
export async function isRestricted(userId: number): Promise<boolean> {
  return restricted.get(userId, async () => {
    const row = await db
      .from('processing_restrictions')
      .where('user_id', userId)
      .whereNull('lifted_at')
      .select('id')
      .first()
    return Boolean(row)
  })
}

/** The restricted ones among `userIds` (for baselines over many users at once). */
export async function restrictedUserIds(userIds: number[]): Promise<Set<number>> {
  if (!userIds.length) return new Set()
  const rows = await db
    .from('processing_restrictions')
    .whereIn('user_id', userIds)
    .whereNull('lifted_at')
    .select('user_id')
  return new Set(rows.map((row) => Number(row.user_id)))
}

/** The users of a company under a restriction now: what the core seam asks (fraud baselines leave them out). */
export async function restrictedUsersOfCompany(companyId: number): Promise<Set<number>> {
  const rows = await db
    .from('processing_restrictions')
    .where('company_id', companyId)
    .whereNull('lifted_at')
    .select('user_id')
  return new Set(rows.map((row) => Number(row.user_id)))
}
