/** Integer euro cents as people read them: "1.234,56 €" (de), "€1,234.56" (en); integer arithmetic only. */
export function formatEuro(cents: number, locale: string) {
  const negative = cents < 0
  const absolute = Math.abs(cents)
  const whole = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 }).format(
    Math.floor(absolute / 100)
  )
  const fraction = String(absolute % 100).padStart(2, '0')
  const sign = negative ? '-' : ''
  return locale.startsWith('de') ? `${sign}${whole},${fraction} €` : `${sign}€${whole}.${fraction}`
}
