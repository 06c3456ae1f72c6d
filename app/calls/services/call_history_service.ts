import type { DateTime } from 'luxon'
import type { ModelPaginatorContract } from '@adonisjs/lucid/types/model'
import type User from '#accounts/models/user'
import type { ItemisedNumbers } from '#accounts/models/company'
import CallRecord, { type CallDirection } from '#calls/models/call_record'

export const CALL_HISTORY_PAGE_SIZE = 25

export type CallHistoryScope = 'own' | 'company'

/** One line of the call history as the page shows it: numbers already shortened where the company chose so. */
export interface CallHistoryEntry {
  uuid: string
  direction: CallDirection
  emergency: boolean
  /** The other party: the called number (outbound, echo test) or the caller (inbound); null when withheld. */
  otherParty: string | null
  /** Inbound and never answered. */
  missed: boolean
  startedAt: DateTime
  durationSeconds: number | null
  disconnectCause: string | null
  sipStatus: number | null
  /** Whose call it was (shown in the company-wide view). */
  userName: string | null
  /** The price in 1/10,000 cent once billing rated the call; null while pending or unpriced. */
  costMicro: number | null
  /** Where the call was forwarded: a colleague's extension or an external number (shortened like destinations). */
  forwardedTo: string | null
  /** Why: always, busy, no_answer, unreachable. */
  forwardReason: string | null
  /** The outbound call an external forwarding placed: not a call the user dialled. */
  forwardedCall: boolean
}

/**
 * Hides the last three digits of an E.164 number (+49301234567 → +49301234xxx): the itemised-bill
 * choice of TDDDG/TKG. Short codes (110, 112, *43) name no person and stay as they are.
 */
export function shortenNumber(number: string): string {
  return /^\+\d{6,}$/.test(number) ? `${number.slice(0, -3)}xxx` : number
}

/**
 * The call history from the CDRs: a user's own calls, or the whole company's for those allowed
 * to see it. Destination numbers of outbound calls follow the company's `itemised_numbers`.
 */
export default class CallHistoryService {
  async page(
    viewer: User,
    options: { scope: CallHistoryScope; page: number; itemised: ItemisedNumbers }
  ): Promise<{ paginator: ModelPaginatorContract<CallRecord>; entries: CallHistoryEntry[] }> {
    const query = CallRecord.query()
      .where('company_id', viewer.companyId!)
      .preload('user')
      .orderBy('started_at', 'desc')
      .orderBy('id', 'desc')
    // Internal calls belong to both colleagues: the caller (user_id) and the called (callee_user_id).
    if (options.scope === 'own')
      query.where((own) => own.where('user_id', viewer.id).orWhere('callee_user_id', viewer.id))
    const paginator = await query.paginate(options.page, CALL_HISTORY_PAGE_SIZE)
    const entries = paginator
      .all()
      .map((record) => this.present(record, options.itemised, viewer.id))
    return { paginator, entries }
  }

  /** `viewerId`: for an internal call, the called colleague sees the caller as the other party. */
  present(record: CallRecord, itemised: ItemisedNumbers, viewerId?: number): CallHistoryEntry {
    const called = record.direction === 'internal' && record.calleeUserId === viewerId
    const inbound = record.direction === 'inbound' || called
    const raw = inbound ? (record.callerWithheld ? null : record.callerNumber) : record.calleeNumber
    // Without an itemised list (none) the call history stays shortened like the default; calls
    // inside the company reach colleagues, not outside parties, and are shown in full.
    const shorten =
      !inbound && record.direction !== 'internal' && itemised !== 'full' && raw !== null
    return {
      uuid: record.uuid,
      direction: record.direction,
      emergency: record.emergency,
      otherParty: shorten ? shortenNumber(raw) : raw,
      missed: inbound && record.answeredAt == null && record.endedAt != null,
      startedAt: record.startedAt,
      durationSeconds: record.durationSeconds,
      disconnectCause: record.disconnectCause,
      sipStatus: record.sipStatus,
      userName: record.user?.fullName ?? null,
      costMicro: record.costMicro,
      // An external forwarding target is a destination number of the company: shortened the same way.
      forwardedTo:
        record.forwardedTo && itemised !== 'full'
          ? shortenNumber(record.forwardedTo)
          : record.forwardedTo,
      forwardReason: record.forwardedTo ? record.forwardReason : null,
      forwardedCall: record.forwardedFromUuid !== null && record.forwardedFromUuid !== undefined,
    }
  }
}
