/**
 * The sections of the TOMs page and of SCC Annex II, each with the number of its items in
 * resources/lang/<locale>/transparency.json (`toms.<section>.<index>`).
 */
export const TOM_SECTIONS = [
  { key: 'encryption', items: 3 },
  { key: 'access', items: 3 },
  { key: 'logging', items: 3 },
  { key: 'fraud', items: 2 },
  { key: 'residency', items: 2 },
  { key: 'retention', items: 2 },
] as const

export function tomItemKeys(section: (typeof TOM_SECTIONS)[number]) {
  return Array.from(
    { length: section.items },
    (_, index) => `transparency.toms.${section.key}.${index}`
  )
}
