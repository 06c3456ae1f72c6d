import type CallRecord from '#calls/models/call_record'

/**
 * Columns another module writes with a CDR's end, in the same statement (issue 17: the rating's
 * own update was a round trip and a transaction per call). Written only while `onceColumn` is
 * still null on the row, so two writers of one CDR (a repeated end, a second node) cannot both
 * write them; `written` runs when this end wrote them.
 */
export interface CdrEndWrite {
  columns: Record<string, unknown>
  onceColumn: string
  written(): void
}

/**
 * The seam through which billing rates a CDR with its end without the calls module importing
 * billing (ARCHITECTURE.md): a contributor is registered at boot (start/events.ts) and asked,
 * with the record complete, for its columns. A contributor that throws or answers null leaves
 * the end as it was: its `call:ended` listener then writes on its own.
 */
export type CdrEndContributor = (record: CallRecord) => Promise<CdrEndWrite | null>

let contributor: CdrEndContributor | null = null

export function contributeToCdrEnd(next: CdrEndContributor | null) {
  contributor = next
}

export function cdrEndContributor(): CdrEndContributor | null {
  return contributor
}
