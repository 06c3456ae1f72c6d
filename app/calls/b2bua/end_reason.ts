import type { DisconnectCause } from '#calls/models/call_record'

/**
 * ITU-T Q.850 cause values for the calls the system ends: what a carrier's logs understand.
 * 102 recovery on timer expiry, 41 temporary failure, 16 normal call clearing.
 */
const Q850_CAUSES: Partial<Record<DisconnectCause, number>> = {
  media_timeout: 102,
  media_failed: 41,
  phone_disconnected: 41,
  system_shutdown: 41,
  crash_recovery: 41,
  node_lost: 41,
  lost: 41,
  max_duration: 16,
  spend_cap: 16,
  ended_by_staff: 16,
  company_terminated: 16,
}

/** The causes a system-ended call's BYE names (each has words in the web phone). */
export const SYSTEM_END_CAUSES = Object.keys(Q850_CAUSES) as DisconnectCause[]

/**
 * The Reason header (RFC 3326) of the BYE for a call the system ended: the Q.850 cause, and our
 * own cause as its text, which the web phone puts in words (resources/js/phone/outcome_reason.ts).
 */
export function systemEndReason(cause: DisconnectCause): [string, string] {
  return ['Reason', `Q.850;cause=${Q850_CAUSES[cause] ?? 16};text="${cause}"`]
}
