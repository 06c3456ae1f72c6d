/** What an operator supplies for a sipgate trunking account; the rest is the carrier's public profile. */
export interface SipgateTrunkingConfig {
  /** SIP-ID of the trunk, e.g. "1234567t0". */
  username: string
  /** From the environment (SIPGATE_TRUNK_PASSWORD) or an encrypted override. */
  password: string
}
