import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import { sqlColumnTime } from '#core/sql_time'

const FORMATS = ['yyyy-MM-dd HH:mm:ss', "yyyy-MM-dd'T'HH:mm:ss.SSSZZ", 'yyyy-MM-dd HH:mm:ss.SSS']

/** The timestamps written without luxon's toFormat are the strings toFormat gives (issue 17). */
test.group('sqlColumnTime', () => {
  test('the same string as toFormat in UTC and in other zones, for every dialect format', ({
    assert,
  }) => {
    const instants = [0, 1, 999, 1_000, 951_782_400_000, 1_796_300_000_123, 253_402_300_799_999]
    // around the DST changes of 2026, and a spread up to year 9999 fixed so a failure reproduces
    instants.push(Date.UTC(2026, 2, 29, 0, 59, 59, 999), Date.UTC(2026, 2, 29, 1, 0, 0, 1))
    instants.push(Date.UTC(2026, 9, 25, 0, 30, 0, 50), Date.UTC(2024, 1, 29, 23, 59, 59, 5))
    let seed = 42
    for (let i = 0; i < 300; i++) {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
      instants.push(Math.floor((seed / 2 ** 31) * 253_402_300_800_000))
    }
    for (const millis of instants) {
      for (const zone of ['utc', 'Europe/Berlin', 'America/St_Johns', 'Asia/Kolkata']) {
        const time = DateTime.fromMillis(millis, { zone })
        for (const format of FORMATS)
          assert.equal(sqlColumnTime(time, format), time.toFormat(format), `${millis} ${zone}`)
      }
    }
    const invalid = DateTime.fromISO('not a time')
    assert.equal(sqlColumnTime(invalid, FORMATS[0]), invalid.toFormat(FORMATS[0]))
  })
})
