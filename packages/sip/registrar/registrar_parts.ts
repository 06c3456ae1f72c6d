import type Registrar from '#sip/registrar/registrar'
import type DigestAuthenticator from '#sip/registrar/digest_authenticator'
import type { BindingStore } from '#sip/registrar/binding_store'
import type { NonceCountStore } from '#sip/registrar/nonce_count_store'

/** The registrar and the stores it works on, assembled by the owner of the stack. */
export interface RegistrarParts {
  registrar: Registrar
  /** The digest server, shared with the B2BUA, which authenticates INVITEs from phones with it. */
  authenticator: DigestAuthenticator
  bindings: BindingStore
  nonceCounts: NonceCountStore
}
