import Company from '#accounts/models/company'
import User from '#accounts/models/user'
import { LookupCache } from '#core/caching/lookup_changes'

const companies = new LookupCache<number, Company | null>()
const users = new LookupCache<number, User | null>()

/**
 * The company and user rows a call reads (status, settings such as encrypted_only), kept between
 * calls until any of them changes (#core/caching/lookup_changes; across nodes through Redis).
 * Shared instances: read them, never change and save them.
 */
export const callLookups = {
  company: (id: number) => companies.get(id, () => Company.find(id)),
  user: (id: number) => users.get(id, () => User.find(id)),
  /** Tests. */
  clear() {
    companies.clear()
    users.clear()
  },
}
