import type { LegacySubject } from '#sip'

/**
 * Whom SIP credentials and the registrations they make belong to. The SIP stack carries this as
 * an opaque subject (SipCredential.subject, Binding.subject); this file is the one place that
 * writes and reads it: `user:<id>/company:<id>[/device:<id> | /web-phone:<id>]`. The user comes
 * first, so `userSubject` lists every phone of a user (the stack lists a subject with all below it).
 */
export interface SipSubjectParts {
  userId: number
  companyId: number
  /** The SIP phone (sip_devices) of the credentials. */
  deviceId?: number
  /** The web phone login (web_phone_credentials) of the credentials. */
  webPhoneCredentialId?: number
}

const SUBJECT = /^user:(\d+)\/company:(\d+)(?:\/(device|web-phone):(\d+))?$/

export function sipSubject(parts: SipSubjectParts): string {
  const base = `user:${parts.userId}/company:${parts.companyId}`
  if (parts.deviceId !== undefined) return `${base}/device:${parts.deviceId}`
  if (parts.webPhoneCredentialId !== undefined)
    return `${base}/web-phone:${parts.webPhoneCredentialId}`
  return base
}

/** The subject every registration of a user lies under: the phones an inbound call rings. */
export function userSubject(userId: number): string {
  return `user:${userId}`
}

/** The parts of a subject this file wrote; undefined for anything else. */
export function sipSubjectParts(subject: string): SipSubjectParts | undefined {
  const match = SUBJECT.exec(subject)
  if (!match) return undefined
  const [, userId, companyId, kind, id] = match
  return {
    userId: Number(userId),
    companyId: Number(companyId),
    ...(kind === 'device' ? { deviceId: Number(id) } : {}),
    ...(kind === 'web-phone' ? { webPhoneCredentialId: Number(id) } : {}),
  }
}

/**
 * Bindings stored before they carried a subject had user, company and device ids (web phones no
 * login id): the same subject, so they keep ringing after an upgrade.
 */
export const legacySipSubject: LegacySubject = (owner) => sipSubject(owner)
