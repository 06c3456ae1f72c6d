/**
 * Money in pain.008 files: ActiveOrHistoricCurrencyAndAmount with two decimals. Amounts are kept in
 * integer cents and written by integer arithmetic; floats never decide a digit.
 */
export function centsToDecimal(cents: number) {
  if (!Number.isSafeInteger(cents) || cents < 0)
    throw new RangeError(`not a whole, non-negative number of cents: ${cents}`)
  return `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`
}

/** "50.23" → 5023, only for the exact two-decimal form that centsToDecimal writes. */
export function decimalToCents(text: string) {
  const match = /^(\d+)\.(\d{2})$/.exec(text)
  if (!match) throw new RangeError(`not an amount with two decimals: ${text}`)
  return Number(match[1]) * 100 + Number(match[2])
}
