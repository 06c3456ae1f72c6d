import { parsePhoneNumberFromString, type NumberType } from 'libphonenumber-js/max'

/** Risk classes a company's destination permissions enable one by one; none is enabled by default. */
export const RISK_CLASSES = [
  'premium_rate',
  'shared_cost',
  'personal_number',
  'uan',
  'pager',
  'voicemail',
  'special_service',
  'high_risk',
] as const
export type RiskClass = (typeof RISK_CLASSES)[number]

/** libphonenumber-js number types that are a risk class (the max metadata knows them). */
const TYPE_CLASSES: Partial<Record<NonNullable<NumberType>, RiskClass>> = {
  PREMIUM_RATE: 'premium_rate',
  SHARED_COST: 'shared_cost',
  PERSONAL_NUMBER: 'personal_number',
  UAN: 'uan',
  PAGER: 'pager',
  VOICEMAIL: 'voicemail',
}

export interface RiskPrefix {
  /** E.164 digits without "+". */
  prefix: string
  riskClass: string
}

export interface NumberFacts {
  /** ISO 3166 alpha-2, or null for non-geographic numbers (+881, +882, +883...). */
  country: string | null
  /** The risk classes the number falls into (the prefix table's and libphonenumber-js's). */
  riskClasses: string[]
}

/**
 * What a destination is: its country and risk classes. The prefix table (data, editable by staff)
 * is checked by longest prefix; libphonenumber-js/max adds the type it knows. Results are cached
 * per number, so a repeated destination costs a map lookup.
 */
export default class NumberRisk {
  #prefixes: Map<string, string>
  #longest: number
  #cache = new Map<string, NumberFacts>()

  constructor(prefixes: RiskPrefix[]) {
    this.#prefixes = new Map(prefixes.map((entry) => [entry.prefix, entry.riskClass]))
    this.#longest = Math.max(0, ...prefixes.map((entry) => entry.prefix.length))
  }

  classify(destination: string): NumberFacts {
    const cached = this.#cache.get(destination)
    if (cached) return cached
    const facts = this.#classify(destination)
    if (this.#cache.size >= 10_000) this.#cache.clear()
    this.#cache.set(destination, facts)
    return facts
  }

  #classify(destination: string): NumberFacts {
    const digits = destination.replace(/^\+/, '')
    const riskClasses = new Set<string>()
    for (let length = Math.min(this.#longest, digits.length); length > 0; length--) {
      const riskClass = this.#prefixes.get(digits.slice(0, length))
      if (riskClass) {
        riskClasses.add(riskClass)
        break
      }
    }
    const parsed = parsePhoneNumberFromString(`+${digits}`)
    const type = parsed?.getType()
    const typeClass = type ? TYPE_CLASSES[type] : undefined
    if (typeClass) riskClasses.add(typeClass)
    return { country: parsed?.country ?? null, riskClasses: [...riskClasses] }
  }
}
