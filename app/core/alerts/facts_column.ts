import type { AlertFacts } from '#core/alerts/types'

/** Facts are stored as JSON text (SQLite has no JSON type; PostgreSQL returns text for a text column). */
export const factsColumn = {
  prepare: (value: AlertFacts) => JSON.stringify(value ?? {}),
  consume: (value: string | object) =>
    (typeof value === 'string' ? JSON.parse(value) : value) as AlertFacts,
}
