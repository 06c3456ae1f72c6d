import {
  SignalledCarrierPlugin,
  type CredentialOverride,
  type SubProcessorMetadata,
  type TrunkProfile,
} from '#calls/carriers/types'
import type { GenericTrunkConfig } from '#plugins/carriers/generic/types'

/** A plain RFC 3261 trunk: everything comes from config, so any standards-conforming carrier fits. */
export default class GenericTrunk extends SignalledCarrierPlugin {
  readonly kind = 'generic'
  readonly developmentOnly = false
  readonly profile: TrunkProfile
  readonly subProcessor: SubProcessorMetadata

  constructor(config: GenericTrunkConfig, credentials: CredentialOverride = {}) {
    super()
    const auth = config.profile.auth
    this.profile = {
      ...config.profile,
      auth: auth?.method === 'registration' ? { ...auth, ...credentials } : auth,
    }
    this.subProcessor = config.subProcessor
  }
}
