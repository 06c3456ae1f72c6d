import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import { formatUtc } from '#core/sql_time'

const FORMATS = ['yyyy-MM-dd HH:mm:ss', "yyyy-MM-dd'T'HH:mm:ss.SSSZZ"]

test.group('formatUtc', () => {
  test('writes what luxon writes, in every zone, around DST changes and odd milliseconds', ({
    assert,
  }) => {
    const instants = [
      0,
      Date.UTC(2026, 2, 29, 0, 59, 59, 999),
      Date.UTC(2026, 2, 29, 1, 0, 0, 1),
      Date.UTC(2026, 9, 25, 0, 30, 0, 50),
      Date.UTC(2024, 1, 29, 23, 59, 59, 5),
      Date.UTC(1999, 11, 31, 23, 59, 59, 999),
      Date.UTC(1000, 0, 1),
      Date.UTC(9999, 11, 31, 23, 59, 59, 999),
    ]
    // and a spread of instants from 1970 to 2100, fixed so a failure can be reproduced
    let seed = 42
    for (let index = 0; index < 500; index++) {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
      instants.push(Math.floor((seed / 2 ** 31) * Date.UTC(2100, 0, 1)))
    }
    for (const zone of ['utc', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata']) {
      for (const millis of instants) {
        const time = DateTime.fromMillis(millis, { zone })
        for (const format of FORMATS) {
          assert.equal(formatUtc(time, format), time.toUTC().toFormat(format), `${millis} ${zone}`)
        }
      }
    }
  })

  test('other formats, invalid times and far years go through luxon', ({ assert }) => {
    const time = DateTime.fromMillis(Date.UTC(2026, 11, 3, 11, 45, 7, 123), {
      zone: 'Europe/Berlin',
    })
    assert.equal(formatUtc(time, "yyyy-MM-dd'T'HH:mm:ss"), '2026-12-03T11:45:07')
    const invalid = DateTime.invalid('test')
    assert.equal(formatUtc(invalid, FORMATS[0]), invalid.toFormat(FORMATS[0]))
    const ancient = DateTime.fromMillis(Date.UTC(999, 0, 1), { zone: 'utc' })
    assert.equal(formatUtc(ancient, FORMATS[1]), ancient.toFormat(FORMATS[1]))
  })
})
