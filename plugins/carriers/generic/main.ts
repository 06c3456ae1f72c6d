import type {
  CarrierHealth,
  CarrierPlugin,
  CredentialOverride,
  SubProcessorMetadata,
  TrunkProfile,
} from '#calls/carriers/types'
import type { GenericTrunkConfig } from '#plugins/carriers/generic/types'

/** A plain RFC 3261 trunk: everything comes from config, so any standards-conforming carrier fits. */
export default class GenericTrunk implements CarrierPlugin {
  readonly kind = 'generic'
  readonly developmentOnly = false
  readonly profile: TrunkProfile
  readonly subProcessor: SubProcessorMetadata

  constructor(config: GenericTrunkConfig, credentials: CredentialOverride = {}) {
    const auth = config.profile.auth
    this.profile = {
      ...config.profile,
      auth: auth?.method === 'registration' ? { ...auth, ...credentials } : auth,
    }
    this.subProcessor = config.subProcessor
  }

  health(): CarrierHealth {
    return {
      options: 'unknown',
      registration: this.profile.auth.method === 'registration' ? 'unknown' : 'not_applicable',
      checkedAt: null,
    }
  }

  /** Nothing held yet: registrations and OPTIONS timers arrive with the SIP stack (CarrierSignalling). */
  async close() {}
}
