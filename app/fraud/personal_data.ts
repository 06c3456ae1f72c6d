import type { PersonalDataDeclaration } from '#core/personal_data'

/**
 * What the fraud module stores about people: a user's outbound suspension, and which user and
 * device hold a running call (its concurrent-call lease). Company policies and the risk prefix
 * table are about companies and number ranges, not people.
 */
const declaration: PersonalDataDeclaration = {
  module: 'fraud',
  tables: [
    {
      table: 'fraud_user_policies',
      subject: 'user',
      columns: {
        outbound_suspension: 'whether the user may not call out (all calls, or international and premium ranges)',
      },
      purpose: 'toll-fraud prevention: a user whose calls are suspended',
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
      retention: 'deleted when the call ends (call:ended); leftovers after 6 hours (CallLeases.rebuild, every minute)',
    },
  ],
}

export default declaration
