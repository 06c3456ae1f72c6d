import type { DateTime } from 'luxon'
import type { ModelPaginatorContract } from '@adonisjs/lucid/types/model'
import type User from '#accounts/models/user'
import type { ItemisedNumbers } from '#accounts/models/company'
import CallRecord, { type CallDirection } from '#calls/models/call_record'
import { FORWARD_CONDITIONS, type ForwardCondition } from '#calls/models/call_forwarding'
import { qualityLabel, type QualityLabel } from '#calls/b2bua/call_quality'

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
  /** Where the call was forwarded or transferred: an extension or a number (shortened like destinations). */
  forwardedTo: string | null
  /** Why: always, busy, no_answer, unreachable, or transfer; null when the call stayed. */
  forwardReason: ForwardReason | null
  /** The note under the number: its message key (phone.forwarding.history.*) and what it names. */
  forwardNote: { key: string; target: string | null; reason: ForwardReason | null } | null
  /**
   * The outbound call a forwarding (or a transfer) placed to continue another call: not a call
   * the user dialled. Null for every other call.
   */
  forwardedCall: 'forward' | 'transfer' | null
  /** How the call sounded (the worse side's MOS estimate); null when not measured. */
  quality: { label: QualityLabel; mos: number } | null
  /** Both browsers confirmed their keys: the audio was end-to-end encrypted (for a part, at least). */
  endToEndEncrypted: boolean
}

/** What the CDRs name as the reason a call went elsewhere (the B2BUA's forwardings and transfers). */
export type ForwardReason = ForwardCondition | 'transfer'
const FORWARD_REASONS: readonly string[] = [...FORWARD_CONDITIONS, 'transfer']

function forwardNote(
  target: string | null,
  reason: ForwardReason | null
): CallHistoryEntry['forwardNote'] {
  if (reason === 'transfer')
    return { key: target ? 'transferred_to' : 'transferred', target, reason }
  if (target) return { key: reason ? 'forwarded_to' : 'forwarded_to_plain', target, reason }
  return reason ? { key: 'forwarded', target, reason } : null
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
    options: {
      scope: CallHistoryScope
      page: number
      itemised: ItemisedNumbers
      perPage?: number
    }
  ): Promise<{ paginator: ModelPaginatorContract<CallRecord>; entries: CallHistoryEntry[] }> {
    const query = CallRecord.query()
      .where('company_id', viewer.companyId!)
      .preload('user')
      .orderBy('started_at', 'desc')
      .orderBy('id', 'desc')
    // Internal calls belong to both colleagues: the caller (user_id) and the called (callee_user_id).
    if (options.scope === 'own')
      query.where((own) => own.where('user_id', viewer.id).orWhere('callee_user_id', viewer.id))
    const paginator = await query.paginate(options.page, options.perPage ?? CALL_HISTORY_PAGE_SIZE)
    // A forwarding's or a transfer's outbound call: which of the two the continued call names.
    const continued = paginator
      .all()
      .map((record) => record.forwardedFromUuid)
      .filter((uuid): uuid is string => Boolean(uuid))
    const origins = continued.length
      ? await CallRecord.query()
          .where('company_id', viewer.companyId!)
          .whereIn('uuid', continued)
          .select('uuid', 'forward_reason')
      : []
    const transfers = new Set(
      origins.filter((origin) => origin.forwardReason === 'transfer').map((origin) => origin.uuid)
    )
    const entries = paginator
      .all()
      .map((record) => this.present(record, options.itemised, viewer.id, transfers))
    return { paginator, entries }
  }

  /**
   * `viewerId`: for an internal call, the called colleague sees the caller as the other party.
   * `transfers`: uuids of calls that were transferred (their outbound call says "transferred").
   */
  present(
    record: CallRecord,
    itemised: ItemisedNumbers,
    viewerId?: number,
    transfers: Set<string> = new Set()
  ): CallHistoryEntry {
    const called = record.direction === 'internal' && record.calleeUserId === viewerId
    const inbound = record.direction === 'inbound' || called
    const raw = inbound ? (record.callerWithheld ? null : record.callerNumber) : record.calleeNumber
    // Without an itemised list (none) the call history stays shortened like the default; calls
    // inside the company reach colleagues, not outside parties, and are shown in full.
    const shorten =
      !inbound && record.direction !== 'internal' && itemised !== 'full' && raw !== null
    // An external forwarding target is a destination number of the company: shortened the same way.
    const forwardedTo =
      record.forwardedTo && itemised !== 'full'
        ? shortenNumber(record.forwardedTo)
        : (record.forwardedTo ?? null)
    const forwardReason =
      record.forwardReason && FORWARD_REASONS.includes(record.forwardReason)
        ? (record.forwardReason as ForwardReason)
        : null
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
      forwardedTo,
      forwardReason,
      forwardNote: forwardNote(forwardedTo, forwardReason),
      forwardedCall: record.forwardedFromUuid
        ? transfers.has(record.forwardedFromUuid)
          ? 'transfer'
          : 'forward'
        : null,
      quality:
        record.qualityMos === null || record.qualityMos === undefined
          ? null
          : { label: qualityLabel(record.qualityMos), mos: record.qualityMos },
      endToEndEncrypted: record.endToEndEncrypted === true,
    }
  }
}
