import { toE164 } from '#core/e164'

/** At most this many numbers per import or assignment, so one form post stays one short transaction. */
export const MAX_BLOCK_SIZE = 1000

export type NumberBlockProblem =
  | 'invalid_number'
  | 'invalid_range_end'
  | 'range_reversed'
  | 'range_length_mismatch'
  | 'count_with_range'
  | 'block_too_large'
  | 'block_crosses_length'

export class NumberBlockError extends Error {
  constructor(
    public code: NumberBlockProblem,
    /** The form field the problem belongs to. */
    public field: 'numbers' | 'count'
  ) {
    super(code)
  }
}

/** Drops the separators people paste ("+49 30 1234-50" in a single number, dots, brackets). */
function compact(value: string) {
  return value.replace(/[\s().\/]/g, '')
}

/** "+49 30 123450" -> "+4930123450"; "4930123450" is taken as E.164 without the plus. Null if not E.164. */
export function normaliseE164(value: string): string | null {
  return toE164(value, { bareIsInternational: true })
}

/**
 * The numbers a form names: one number, a range "from-to" (both E.164, same length), or a start
 * number plus a count. Blocks keep the number length: +49301234599 plus 2 is refused rather than
 * spilling into +493012346000.
 */
export function expandNumberBlock(input: { numbers: string; count?: number | null }): string[] {
  const text = compact(input.numbers.trim())
  const dash = text.indexOf('-', 1)
  if (dash > 0) {
    if (input.count) throw new NumberBlockError('count_with_range', 'count')
    const from = normaliseE164(text.slice(0, dash))
    if (!from) throw new NumberBlockError('invalid_number', 'numbers')
    const to = normaliseE164(text.slice(dash + 1))
    if (!to) throw new NumberBlockError('invalid_range_end', 'numbers')
    if (to.length !== from.length) throw new NumberBlockError('range_length_mismatch', 'numbers')
    const size = BigInt(to.slice(1)) - BigInt(from.slice(1)) + 1n
    if (size < 1n) throw new NumberBlockError('range_reversed', 'numbers')
    if (size > BigInt(MAX_BLOCK_SIZE)) throw new NumberBlockError('block_too_large', 'numbers')
    return sequence(from, Number(size))
  }

  const start = normaliseE164(text)
  if (!start) throw new NumberBlockError('invalid_number', 'numbers')
  const count = input.count ?? 1
  if (!Number.isInteger(count) || count < 1 || count > MAX_BLOCK_SIZE)
    throw new NumberBlockError('block_too_large', 'count')
  const last = `+${BigInt(start.slice(1)) + BigInt(count - 1)}`
  if (last.length !== start.length) throw new NumberBlockError('block_crosses_length', 'count')
  return sequence(start, count)
}

function sequence(first: string, count: number) {
  const base = BigInt(first.slice(1))
  return Array.from({ length: count }, (_, index) => `+${base + BigInt(index)}`)
}
