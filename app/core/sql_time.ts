import type { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'

/**
 * A luxon time in the format the database stores timestamps in, for raw query-builder
 * comparisons and updates (models convert on their own; raw queries do not).
 */
export function sqlTime(time: DateTime) {
  return time.toUTC().toFormat(db.connection().dialect.dateTimeFormat)
}
