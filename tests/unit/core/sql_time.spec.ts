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
    for (let i = 0; i < 200; i++) instants.push(Math.floor(Math.random() * 253_402_300_800_000))
    for (const millis of instants) {
      for (const zone of ['utc', 'Europe/Berlin', 'America/St_Johns']) {
        const time = DateTime.fromMillis(millis, { zone })
        for (const format of FORMATS)
          assert.equal(sqlColumnTime(time, format), time.toFormat(format), `${millis} ${zone}`)
      }
    }
    const invalid = DateTime.fromISO('not a time')
    assert.equal(sqlColumnTime(invalid, FORMATS[0]), invalid.toFormat(FORMATS[0]))
  })
})
