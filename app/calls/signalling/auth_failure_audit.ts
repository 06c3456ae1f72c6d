import type { AuditRecord } from '#accounts/services/audit_log'
import type { AuthFailure, SipCredential } from '#sip'
import { sipSubjectParts } from '#calls/signalling/sip_subject'

/**
 * The audit entries of one refused SIP authentication (the stack reports it through its
 * onFailure hook): one `sip.auth.failed`, and one `sip.auth.locked` per scope it locked. Art. 32
 * GDPR: the source address and the (cut) username are kept, never the credentials sent.
 */
export function authFailureAuditEntries(failure: AuthFailure): AuditRecord[] {
  const { credential, source, username } = failure
  const base = {
    companyId: (credential && sipSubjectParts(credential.subject)?.companyId) ?? null,
    target: credential ? auditTargetOf(credential) : undefined,
    ip: source.host,
  }
  return [
    {
      ...base,
      action: 'sip.auth.failed',
      details: { username, reason: failure.reason, transport: source.protocol },
    },
    ...failure.lockedNow.map((scope) => ({
      ...base,
      action: 'sip.auth.locked',
      details: { username, scope, transport: source.protocol },
    })),
  ]
}

/** The audit target of a credential: a SIP phone, or a web phone login. */
function auditTargetOf(credential: SipCredential): { type: string; id: number } | undefined {
  const { deviceId, webPhoneCredentialId } = sipSubjectParts(credential.subject) ?? {}
  if (deviceId !== undefined) return { type: 'sip_device', id: deviceId }
  if (webPhoneCredentialId !== undefined) {
    return { type: 'web_phone_credential', id: webPhoneCredentialId }
  }
  return undefined
}
