import Company from '#accounts/models/company'
import User from '#accounts/models/user'
import { LookupCache } from '#core/caching/lookup_changes'

const companies = new LookupCache<number, Company | null>()
const users = new LookupCache<number, User | null>()

/**
 * The company and user rows calls and their aftermath read (status, settings such as
 * encrypted_only, country and time zone for fraud's baselines and spend), kept between calls until
 * any of them changes (the models' hooks; #core/caching/lookup_changes, across nodes through
 * Redis). Shared instances: read them, never change and save them.
 */
export const keptRows = {
  company: (id: number) => companies.get(id, () => Company.find(id)),
  user: (id: number) => users.get(id, () => User.find(id)),
  /** Tests. */
  clear() {
    companies.clear()
    users.clear()
  },
}
