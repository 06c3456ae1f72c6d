/**
 * Numbers of counselling lines that never appear on an itemised list (TDDDG § 11(2)): the Federal
 * Network Agency keeps the binding list of such lines (persons, authorities and organisations in
 * social or church counselling with a duty of confidentiality). This excerpt holds well-known
 * nationwide lines; keep it in sync with the agency's list (E.164 digits without "+").
 */
export const COUNSELLING_LINES: readonly string[] = [
  '498001110111', // TelefonSeelsorge
  '498001110222', // TelefonSeelsorge
  '49116123', // TelefonSeelsorge
  '49116111', // Nummer gegen Kummer (Kinder- und Jugendtelefon)
  '498001110333', // Nummer gegen Kummer
  '498001110550', // Nummer gegen Kummer (Elterntelefon)
  '49116016', // Hilfetelefon Gewalt gegen Frauen
  '498000116016', // Hilfetelefon Gewalt gegen Frauen
]

export function isCounsellingLine(digits: string | null): boolean {
  return digits !== null && COUNSELLING_LINES.includes(digits)
}
