import encryption from '@adonisjs/core/services/encryption'
import CarrierState from '#calls/models/carrier_state'
import type { CredentialOverride } from '#calls/carriers/types'

/** Purpose-bound so a sealed credential cannot be replayed as another encrypted value (e.g. a TOTP secret). */
const PURPOSE = 'carrier-credentials'

/** Seals and opens operators' credential overrides; plain values exist only in memory. */
export default class CredentialVault {
  static seal(credentials: CredentialOverride) {
    return encryption.encrypt(credentials, undefined, PURPOSE)
  }

  static open(sealed: string | null): CredentialOverride {
    if (!sealed) return {}
    return encryption.decrypt<CredentialOverride>(sealed, PURPOSE) ?? {}
  }

  /** The override stored for a carrier; empty when none or when the table does not exist yet (before migrations). */
  static async forCarrier(name: string): Promise<CredentialOverride> {
    try {
      const state = await CarrierState.findBy('carrier_name', name)
      return CredentialVault.open(state?.credentialsSealed ?? null)
    } catch (error) {
      if (/no such table|does not exist/i.test((error as Error).message)) return {}
      throw error
    }
  }
}
