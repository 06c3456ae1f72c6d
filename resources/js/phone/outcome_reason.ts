/*
 * Why a call did not connect, in words: the page shows this until the user dismisses it. Plain
 * TypeScript without DOM use (unit-tested in tests/unit/calls/phone/outcome_reason.spec.ts).
 */
import { EMERGENCY_NUMBERS } from './dialled_number.js'

export interface FailedCall {
  outcome:
    'busy' | 'unreachable' | 'refused' | 'failed' | 'connection-lost' | 'no-microphone' | 'cut-off'
  /**
   * The SIP final status and reason phrase, when the server answered; for a call the server
   * ended ('cut-off'), no status and its cause (serverEndCause) as the phrase.
   */
  status: number | null
  phrase: string | null
  /** The number that was dialled (outbound calls). */
  dialled: string | null
}

/** A text key of phone.script.* and the values of its placeholders. */
export interface ReasonText {
  key: string
  values: Record<string, string>
}

/** The B2BUA's own reason phrases (app/calls/b2bua/b2bua.ts, the call gates) and what they mean. */
const SERVER_PHRASES: Array<[RegExp, string]> = [
  [/^No EU carrier/i, 'reason.eu_only'],
  [/^No carrier you accepted/i, 'reason.objected'],
  [/^No carrier available/i, 'reason.no_carrier'],
  [/^User disabled/i, 'reason.user_disabled'],
  [/^Account not active/i, 'reason.account_inactive'],
  [/^(Shutting down|Starting)$/i, 'reason.unavailable'],
  [/^Invalid number/i, 'reason.invalid_number'],
  [/^No route to this number/i, 'reason.not_found'],
  // Calls inside the company (app/calls/b2bua/b2bua.ts, internal calls)
  [/^Do not disturb/i, 'reason.do_not_disturb'],
  [/^No such extension/i, 'reason.no_extension'],
  [/^Your own line/i, 'reason.own_line'],
  // The fraud gate (app/fraud/services/fraud_rules.ts, fraud_limiter.ts)
  [/^Outbound calls suspended/i, 'reason.fraud_suspended'],
  [/^Destination blocked/i, 'reason.fraud_blocked_number'],
  [/^Destination country not allowed/i, 'reason.fraud_country'],
  [/^Call limit reached/i, 'reason.fraud_limit'],
  [/^Too many concurrent calls/i, 'reason.fraud_concurrent'],
  // The payment gate (app/billing/payments/gates/payment_gate.ts)
  [/^Payment overdue/i, 'reason.payment_overdue'],
  [/^Destination too expensive/i, 'reason.fraud_price'],
  [/^Spend limit reached/i, 'reason.fraud_spend_cap'],
  [/^Personal spend limit reached/i, 'reason.fraud_user_spend_cap'],
  [/^Number flagged as fraudulent/i, 'reason.fraud_flagged'],
  // The DPA gate (app/privacy/gates/dpa_gate.ts)
  [/^Data processing agreement not accepted/i, 'reason.dpa_missing'],
  // Restriction of processing, Art. 18 GDPR (app/privacy/gates/restriction_gate.ts)
  [/^Processing restricted/i, 'reason.restricted'],
]

/**
 * Our causes of a call the server ended (app/calls/b2bua/end_reason.ts, the text of its BYE's
 * Reason header) and the words for each.
 */
const SERVER_END_CAUSES = new Map([
  ['media_failed', 'reason.cut_off_media'],
  ['media_timeout', 'reason.cut_off_media'],
  ['phone_disconnected', 'reason.cut_off_other_side_lost'],
  ['max_duration', 'reason.cut_off_max_duration'],
  ['spend_cap', 'reason.cut_off_spend_cap'],
  ['ended_by_staff', 'reason.cut_off_staff'],
  ['company_terminated', 'reason.cut_off_company'],
  ['system_shutdown', 'reason.cut_off_server'],
  ['crash_recovery', 'reason.cut_off_server'],
  ['node_lost', 'reason.cut_off_server'],
  ['lost', 'reason.cut_off_server'],
])

/**
 * The server's cause from the Reason header (RFC 3326) of the BYE that ended a call, e.g.
 * `Q.850;cause=41;text="media_failed"`; null for none, another's or one we have no words for.
 */
export function serverEndCause(reason: string | undefined): string | null {
  const text = /;\s*text="([a-z_]+)"/i.exec(reason ?? '')?.[1]
  return text !== undefined && SERVER_END_CAUSES.has(text) ? text : null
}

function byStatus(status: number | null, outcome: FailedCall['outcome']): string {
  if (outcome === 'no-microphone') return 'reason.no_microphone'
  if (outcome === 'connection-lost') return 'reason.connection_lost'
  if (status === null) return 'reason.other'
  if (status === 486 || status === 600) return 'reason.busy'
  if (status === 480 || status === 408) return 'reason.no_answer'
  if (status === 404 || status === 410 || status === 604) return 'reason.not_found'
  if (status === 484) return 'reason.invalid_number'
  if (status === 503) return 'reason.no_carrier'
  if (status === 488 || status === 606) return 'reason.codec'
  if (status === 403 || status === 603) return 'reason.forbidden'
  return 'reason.other'
}

export function isEmergency(dialled: string | null): boolean {
  return dialled !== null && (EMERGENCY_NUMBERS as readonly string[]).includes(dialled)
}

/**
 * The reason for a failed call: the server's known phrases first (they say more than the status),
 * then the status. A failed emergency call wraps the reason in the advice to use another phone.
 */
export function outcomeReason(call: FailedCall): { reason: ReasonText; emergency: string | null } {
  const phrase = call.phrase?.trim() ?? ''
  // A call that was connected: no advice for a call that could not be
  if (call.outcome === 'cut-off') {
    const key = SERVER_END_CAUSES.get(phrase) ?? 'reason.cut_off_server'
    return { reason: { key, values: { status: '', reason: phrase } }, emergency: null }
  }
  const known =
    call.status !== null ? SERVER_PHRASES.find(([pattern]) => pattern.test(phrase))?.[1] : undefined
  const key = known ?? byStatus(call.status, call.outcome)
  const reason = {
    key,
    values: { status: call.status === null ? '' : String(call.status), reason: phrase },
  }
  return { reason, emergency: isEmergency(call.dialled) ? call.dialled : null }
}
