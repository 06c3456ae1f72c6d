import { test } from '@japa/runner'
import LocalDays from '#fraud/services/local_days'

function intlDay(timeZone: string, at: number) {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(at)
}

/**
 * The daily fraud and spend counters key a call by its company's local day; the day is found once
 * per zone and quarter hour (issue 17). It must be the day Intl gives for every instant: across
 * midnights, DST changes and zones whose offset is not a whole hour, with instants out of order.
 */
test.group('LocalDays', () => {
  test('the same day as Intl for every instant, every 7 minutes over two days around each change', ({
    assert,
  }) => {
    const cases: Array<[string, string]> = [
      ['Europe/Berlin', '2026-03-29T00:00:00Z'], // spring forward at 01:00 UTC
      ['Europe/Berlin', '2026-10-25T00:00:00Z'], // fall back at 01:00 UTC
      ['America/New_York', '2026-11-01T00:00:00Z'],
      ['Asia/Kathmandu', '2026-12-01T00:00:00Z'], // +05:45: midnight at 18:15 UTC
      ['Australia/Eucla', '2026-12-01T00:00:00Z'], // +08:45
      ['Pacific/Chatham', '2026-04-04T00:00:00Z'], // +13:45 -> +12:45
      ['Asia/Kolkata', '2026-12-01T00:00:00Z'], // +05:30
      ['UTC', '2026-12-31T12:00:00Z'],
    ]
    for (const [zone, around] of cases) {
      const days = new LocalDays()
      const from = Date.parse(around) - 86_400_000
      let checked = 0
      for (let at = from; at < from + 2 * 86_400_000; at += 7 * 60_000 + 13_000) {
        assert.equal(
          days.of(zone, at),
          intlDay(zone, at),
          `${zone} at ${new Date(at).toISOString()}`
        )
        checked++
      }
      assert.isAtLeast(checked, 390)
    }
  })

  test('instants out of order and zones interleaved', ({ assert }) => {
    const days = new LocalDays()
    const midnightKathmandu = Date.parse('2026-12-01T18:15:00Z')
    const instants = [
      midnightKathmandu - 1,
      midnightKathmandu,
      midnightKathmandu - 1,
      midnightKathmandu + 899_999,
      midnightKathmandu - 86_400_000,
    ]
    for (const at of instants) {
      for (const zone of ['Asia/Kathmandu', 'Europe/Berlin', 'America/Los_Angeles']) {
        assert.equal(days.of(zone, at), intlDay(zone, at))
      }
    }
    assert.equal(days.of('Asia/Kathmandu', midnightKathmandu - 1), '2026-12-01')
    assert.equal(days.of('Asia/Kathmandu', midnightKathmandu), '2026-12-02')
  })
})
