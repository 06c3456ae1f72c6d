/**
 * The SIP stack's one public entry (RFC 3261 and friends). Layered like SIP.js: message parsing,
 * transports, transactions, dialogs, the user agent core, the registrar and RFC 3263 server
 * location. It knows nothing of the application: no database, config, env or framework; whoever
 * assembles it hands in credentials, counters, hooks and a logger. Its own tests may reach its
 * files through `#sip/*`; everything else imports from here.
 */
export { default as SipStack, type SipNextHop, type SipStackOptions } from './sip_stack.js'
export { defineConfig, type SipConfig, type CarrierHealthConfig } from './sip_config.js'

// Transports
export {
  default as SipTransportLayer,
  type ClosedConnection,
} from './transport/sip_transport_layer.js'
export type { SipTransportConfig } from './transport/sip_transport_config.js'
export { loadTlsCredentials } from './transport/tls_credentials.js'
export { silentLogger, type SipLogger } from './transport/sip_traffic_logger.js'
export { normalizeAddress } from './transport/peer_address.js'
export { webPhoneOrigins } from './transport/loopback_origins.js'
export { default as SourceList } from './transport/source_list.js'
export {
  default as SipTrafficStats,
  COUNTED_METHODS,
  type CountedMethod,
  type StatusClass,
} from './transport/sip_traffic_stats.js'
export type { SipDestination, SipTransportProtocol } from './transaction/transaction_transport.js'

// Clock
export type { SipClock, TimerHandle } from './clock/sip_clock.js'
export { default as SystemClock } from './clock/system_clock.js'
export { default as FakeClock } from './clock/fake_clock.js'
export { default as WarpClock } from './clock/warp_clock.js'

// Messages
export { default as SipUri } from './message/sip_uri.js'
export { default as NameAddress } from './message/name_address.js'
export { default as SipMessageParser } from './message/sip_message_parser.js'
export { default as SipParseError } from './message/sip_parse_error.js'
export { randomBase64url, randomToken } from './message/random_token.js'
export type { default as SipRequest } from './message/sip_request.js'
export type { default as SipResponse } from './message/sip_response.js'

// User agent core and dialogs
export {
  default as SipUserAgentCore,
  type InviteOptions,
  type SendRequestOptions,
} from './ua/sip_user_agent_core.js'
export type { default as IncomingInvite } from './ua/incoming_invite.js'
export type { default as IncomingRequest } from './ua/incoming_request.js'
export type { default as OutgoingInvite } from './ua/outgoing_invite.js'
export { default as RegistrationClient } from './ua/registration_client.js'
export { RegistrationState } from './ua/registration_state.js'
export type { default as SipDialog } from './dialog/sip_dialog.js'
export { DialogEndReason, DialogState } from './dialog/dialog_state.js'
export type { SessionDescription } from './dialog/session_description.js'
export {
  snapshotOf,
  snapshotReachable,
  byeFor,
  type DialogSnapshot,
} from './dialog/dialog_snapshot.js'

// Trusted SIP fronts (a Kamailio naming the real source in X-FluffyCall-Source)
export {
  default as TrustedFronts,
  SOURCE_HEADER,
  clientOf,
  parseClientSource,
  type ClientAddress,
} from './transport/trusted_fronts.js'

// Registrar and digest authentication
export { DigestAlgorithm, computeHa1 } from './auth/digest.js'
export { default as Registrar } from './registrar/registrar.js'
export {
  default as DigestAuthenticator,
  type AuthenticateOptions,
  type AuthFailure,
  type AuthFailureHook,
  type AuthFailureReason,
  type DigestOutcome,
} from './registrar/digest_authenticator.js'
export { default as DigestNonceIssuer } from './registrar/digest_nonce_issuer.js'
export {
  default as AuthFailureLimiter,
  type AuthAttempt,
  type LockScope,
} from './registrar/auth_failure_limiter.js'
export type { FailureCounters } from './registrar/failure_counters.js'
export {
  clientTransportOf,
  destinationOf,
  isUnder,
  routeOf,
  subjectLevels,
  type Binding,
} from './registrar/binding.js'
export type { LegacyBindingOwner, LegacySubject } from './registrar/stored_binding.js'
export type { BindingStore } from './registrar/binding_store.js'
export { default as MemoryBindingStore } from './registrar/memory_binding_store.js'
export { default as RedisBindingStore } from './registrar/redis_binding_store.js'
export type { NonceCountStore } from './registrar/nonce_count_store.js'
export { default as MemoryNonceCountStore } from './registrar/memory_nonce_count_store.js'
export { default as RedisNonceCountStore } from './registrar/redis_nonce_count_store.js'
export type { SipCredential, SipCredentialStore } from './registrar/sip_credential.js'
export { ENCRYPTED_TRANSPORTS } from './registrar/sip_credential.js'
export type { RegistrarParts } from './registrar/registrar_parts.js'
export {
  DEFAULT_LOCKOUT,
  type LockoutSettings,
  type RegistrarSettings,
} from './registrar/registrar_settings.js'

// Subscriptions (RFC 6665) for the dialog event package (RFC 4235)
export {
  default as DialogEventNotifier,
  DIALOG_INFO_TYPE,
  type DialogEventNotifierOptions,
  type SubscriptionAuthorizer,
  type SubscriptionDecision,
} from './subscription/dialog_event_notifier.js'
export {
  dialogInfoXml,
  type DialogActivity,
  type DialogInfoEntry,
} from './subscription/dialog_info.js'

// Transfer (REFER, RFC 3515; Referred-By, RFC 3892; Replaces, RFC 3891)
export {
  parseRefer,
  parseReplaces,
  notifyReferProgress,
  type ReferRequest,
  type Replaces,
} from './refer/refer.js'
