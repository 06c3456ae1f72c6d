import type CallRecord from '#calls/models/call_record'

/**
 * The call events other modules listen to (billing rates CDRs, fraud counts attempts). Emitted by
 * the B2BUA through the app's emitter; payloads are the CDR as it stands.
 */
declare module '@adonisjs/core/types' {
  interface EventsList {
    'call:attempted': { record: CallRecord }
    'call:answered': { record: CallRecord }
    'call:ended': { record: CallRecord }
  }
}
