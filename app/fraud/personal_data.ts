import type { PersonalDataDeclaration } from '#core/personal_data'

/** Fraud signals (alert evidence) are kept this long, longer while their company's review case is open. */
export const FRAUD_SIGNAL_RETENTION_MONTHS = 12
/** Decided review cases (who decided what, why) are kept this long: the regular limitation period (§ 195 BGB). */
export const FRAUD_CASE_RETENTION_YEARS = 3

/**
 * What the fraud module stores about people: a user's outbound suspension, and which user and
 * device hold a running call (its concurrent-call lease), the signals of the anomaly detection with
 * their evidence (numbers called, users), the review decisions of staff and numbers flagged by a
 * Wangiri signal. Company policies and the risk prefix table are about companies and number
 * ranges, not people.
 */
const declaration: PersonalDataDeclaration = {
  module: 'fraud',
  tables: [
    {
      table: 'fraud_user_policies',
      subject: 'user',
      columns: {
        outbound_suspension:
          'whether the user may not call out (all calls, or international and premium ranges)',
        daily_cap_micro: "the user's own daily spend cap, set by the company's admins",
        monthly_cap_micro: "the user's own monthly spend cap, set by the company's admins",
      },
      purpose: 'toll-fraud prevention and cost control: a user whose calls are suspended or capped',
      legalBasis: 'legitimate_interest',
      retention: 'until lifted or the user is deleted',
    },
    {
      table: 'fraud_call_leases',
      subject: 'user',
      columns: {
        call_uuid: 'the running call (its CDR)',
        sip_device_id: 'the SIP device placing the call',
        created_at: 'when the call started',
      },
      purpose: 'toll-fraud prevention: concurrent calls per company, user and device',
      legalBasis: 'legitimate_interest',
      retention:
        'deleted when the call ends (call:ended); leftovers after 6 hours (CallLeases.rebuild, every minute). With Redis the lease is kept there instead (the call id in a set per company, user and device), gone at call:ended or after 6 hours',
    },
    {
      table: 'fraud_signals',
      subject: 'user',
      columns: {
        user_id: 'the user whose calls or logins triggered the signal',
        facts:
          'the figures that triggered it: numbers called or calling, countries, counts, durations',
        created_at: 'when the signal fired',
      },
      purpose: 'toll-fraud prevention: alerts and the evidence of review cases',
      legalBasis: 'legitimate_interest',
      retention: `${FRAUD_SIGNAL_RETENTION_MONTHS} months, longer while the company's review case is open (FraudRetentionJob)`,
    },
    {
      table: 'fraud_review_cases',
      subject: 'user',
      columns: {
        decided_by_id: 'the analyst who decided',
        decision_reason: 'why they decided so',
        decided_at: 'when',
      },
      purpose: 'toll-fraud prevention: accountability of review decisions',
      legalBasis: 'legitimate_interest',
      retention: `${FRAUD_CASE_RETENTION_YEARS} years after the decision (FraudRetentionJob)`,
    },
    {
      table: 'fraud_flagged_numbers',
      subject: 'caller',
      columns: {
        number:
          'the number of a caller behind short inbound calls from an unusual country (Wangiri)',
        flagged_until: 'until when calling it back is refused',
      },
      purpose: 'toll-fraud prevention: call-backs to Wangiri numbers',
      legalBasis: 'legitimate_interest',
      retention: 'deleted when the flag expires (FraudRetentionJob)',
    },
  ],
}

export default declaration
