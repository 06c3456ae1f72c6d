import type User from '#accounts/models/user'
import { isRestricted } from '#privacy/restrictions'

/** The reason phrase of the refusal; the web phone recognises it (resources/js/phone/outcome_reason.ts). */
export const RESTRICTION_REFUSAL_PHRASE = 'Processing restricted'

type Decision = { allow: true } | { allow: false; reason: string; status: number; phrase: string }

/**
 * A user whose processing is restricted (Art. 18 GDPR) places no calls: a call would process their
 * data beyond storage. 110 and 112 never reach a gate. Fills the CallGate seam of calls
 * structurally, like the DPA gate.
 */
export default class RestrictionGate {
  readonly name = 'privacy_restriction'

  async check({ user }: { user: Pick<User, 'id'> }): Promise<Decision> {
    if (!(await isRestricted(user.id))) return { allow: true }
    return {
      allow: false,
      reason: 'processing_restricted',
      status: 403,
      phrase: RESTRICTION_REFUSAL_PHRASE,
    }
  }
}
