import type { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'

/**
 * The formats of our dialects, written from the instant's ISO form: luxon's `toFormat` parses its
 * format string at every call (issue 17: three timestamps per call on the CDR alone). Only for
 * times in UTC with four-digit years; anything else goes through luxon as before.
 */
const FROM_ISO: Record<string, (iso: string) => string> = {
  'yyyy-MM-dd HH:mm:ss': (iso) => `${iso.slice(0, 10)} ${iso.slice(11, 19)}`,
  "yyyy-MM-dd'T'HH:mm:ss.SSSZZ": (iso) => `${iso.slice(0, 23)}+00:00`,
}
const YEAR_10000 = 253402300800000

/**
 * A luxon time in the format the database stores timestamps in, for raw query-builder
 * comparisons and updates (models convert on their own; raw queries do not).
 */
export function sqlTime(time: DateTime) {
  return formatted(time.toUTC(), db.connection().dialect.dateTimeFormat)
}

/**
 * A time as a model's DateTime column is written (in its own zone, as Lucid's `prepare` does),
 * for lean writes of a model's row; `format` is the dialect's `dateTimeFormat`.
 */
export function sqlColumnTime(time: DateTime, format: string) {
  return formatted(time, format)
}

function formatted(time: DateTime, format: string) {
  const fromIso = FROM_ISO[format]
  const millis = time.toMillis()
  if (fromIso && time.offset === 0 && millis >= 0 && millis < YEAR_10000)
    return fromIso(new Date(millis).toISOString())
  return time.toFormat(format)
}
