import type { SubProcessorMetadata, TrunkProfile } from '#calls/carriers/types'

/** Any RFC 3261 trunk: the operator declares the whole profile and the carrier's legal metadata. */
export interface GenericTrunkConfig {
  profile: TrunkProfile
  subProcessor: SubProcessorMetadata
}
