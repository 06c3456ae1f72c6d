import type { DateTime } from 'luxon'

declare module '@adonisjs/core/types' {
  interface EventsList {
    /** A CDR got its cost (once per call): the spend counters add it. */
    'billing:call_rated': {
      callId: number
      companyId: number
      userId: number | null
      costMicro: number
      startedAt: DateTime
    }
  }
}
