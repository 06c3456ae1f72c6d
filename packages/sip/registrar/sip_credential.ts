import type { DigestAlgorithm } from '#sip/auth/digest'
import type { SipDestination, SipTransportProtocol } from '#sip/transaction/transaction_transport'

/** What the digest server needs to know about one set of device credentials. */
export interface SipCredential {
  username: string
  /** The realm the HA1 values were computed for. */
  realm: string
  /** H(username:realm:password) per algorithm, in clear (opened from storage for this check only). */
  ha1: Partial<Record<DigestAlgorithm, string>>
  /**
   * Whom the credentials belong to, in the owner's words: the stack copies it onto the bindings
   * they register and hands the credential back in its hooks, and never reads it otherwise.
   */
  subject: string
  /** The only transports these credentials are accepted over; any transport when absent. */
  transports?: readonly SipTransportProtocol[]
  /**
   * The owner allows these credentials only over an encrypted transport (TLS, WSS): the registrar
   * refuses a REGISTER over any other with 403 and a reason, after the password was proven (a
   * wrong transport is a policy, not a guess: it neither challenges again nor counts to a lock).
   */
  encryptedTransportOnly?: boolean
  /**
   * Addresses the owner proved these credentials from before (a device's earlier registrations,
   * the address a web phone login was issued to): the right password from one of them passes a
   * lock, so a lock on a shared office address does not shut out the phones that work there.
   */
  knownAddresses?: readonly string[]
}

/**
 * Where the digest server finds credentials: the owner implements it on its database;
 * unit tests give a map.
 */
export interface SipCredentialStore {
  /** The live (not revoked) credentials of a username, or undefined. */
  findByUsername(username: string): Promise<SipCredential | undefined>
  /**
   * Called after a successful REGISTER from `source`, so the devices page can show when a phone
   * last registered, and the address counts as known from then on.
   */
  noteRegistered?(credential: SipCredential, at: Date, source: SipDestination): Promise<void>
  /** Called when a REGISTER with the right password was refused by policy (see `reason`). */
  noteRefused?(
    credential: SipCredential,
    at: Date,
    source: SipDestination,
    reason: 'plain_registration'
  ): Promise<void>
}

/** Transports whose signalling is encrypted on the wire. */
export const ENCRYPTED_TRANSPORTS: ReadonlySet<SipTransportProtocol> = new Set(['tls', 'wss'])
