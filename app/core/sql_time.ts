import type { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'

/** The two formats Lucid's dialects use for timestamps here: SQLite's and PostgreSQL's. */
const SQLITE_FORMAT = 'yyyy-MM-dd HH:mm:ss'
const PG_FORMAT = "yyyy-MM-dd'T'HH:mm:ss.SSSZZ"
/** Years 1000-9999 UTC: toISOString writes them with four digits, as luxon does. */
const MIN_FAST = Date.UTC(1000, 0, 1)
const MAX_FAST = Date.UTC(10_000, 0, 1)

/**
 * A time in UTC in a luxon format. The two formats in use are written from the instant's ISO
 * string (what `toFormat` gives, at a fifth of its cost: this ran several times per call,
 * issue 17); any other format, an invalid time or a year outside 1000-9999 goes through luxon.
 */
export function formatUtc(time: DateTime, format: string) {
  const millis = time.toMillis()
  if (millis >= MIN_FAST && millis < MAX_FAST) {
    if (format === SQLITE_FORMAT) {
      const iso = new Date(millis).toISOString()
      return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`
    }
    if (format === PG_FORMAT) return `${new Date(millis).toISOString().slice(0, 23)}+00:00`
  }
  return time.toUTC().toFormat(format)
}

/**
 * A luxon time in the format the database stores timestamps in, for raw query-builder
 * comparisons and updates (models convert on their own; raw queries do not).
 */
export function sqlTime(time: DateTime) {
  return formatUtc(time, db.connection().dialect.dateTimeFormat)
}
