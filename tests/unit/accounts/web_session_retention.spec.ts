import { DateTime } from 'luxon'
import { test } from '@japa/runner'
import db from '@adonisjs/lucid/services/db'
import testUtils from '@adonisjs/core/services/test_utils'
import WebSessionRetentionJob from '#accounts/jobs/web_session_retention_job'
import { WEB_SESSION_RETENTION_DAYS } from '#accounts/personal_data'
import WebSessionService from '#accounts/services/web_session_service'
import { describeUserAgent } from '#accounts/user_agent'
import { makeUser } from '#tests/support/accounts'

const NOW = DateTime.fromISO('2026-06-15T12:00:00Z', { zone: 'utc' })
const at = (time: DateTime) => new WebSessionService(() => time)
const client = { ip: '203.0.113.5', userAgent: 'test' }

test.group('WebSessionRetentionJob', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('deletes entries 7 days after their session ended or expired; live and recent ones stay', async ({
    assert,
  }) => {
    assert.equal(WEB_SESSION_RETENTION_DAYS, 7)
    const user = await makeUser('member')
    const live = await at(NOW.minus({ minutes: 5 })).start(user, 'live', client)
    const endedSixDaysAgo = await at(NOW.minus({ days: 6, hours: 1 })).start(
      user,
      'ended-6d',
      client
    )
    const endedEightDaysAgo = await at(NOW.minus({ days: 8, hours: 1 })).start(
      user,
      'ended-8d',
      client
    )
    // Started 9 days ago and never used again: expired after 8 hours, so 8 days and more ago.
    const expired = await at(NOW.minus({ days: 9 })).start(user, 'expired', client)
    // Expired 6 days ago (idle): kept for now.
    const expiredRecently = await at(NOW.minus({ days: 6, hours: 8, minutes: 1 })).start(
      user,
      'expired-6d',
      client
    )
    await at(NOW.minus({ days: 6 })).endCurrent('ended-6d')
    await at(NOW.minus({ days: 8 })).endCurrent('ended-8d')

    await new WebSessionRetentionJob(() => NOW).handle()
    const left = (await db.from('web_sessions').where('user_id', user.id).orderBy('id')).map(
      (row) => row.id
    )
    assert.deepEqual(left, [live.id, endedSixDaysAgo.id, expiredRecently.id])
    assert.notInclude(left, endedEightDaysAgo.id)
    assert.notInclude(left, expired.id)

    // A week later only the one that expired less than 7 days before is left.
    await new WebSessionRetentionJob(() => NOW.plus({ days: 7 })).handle()
    assert.deepEqual(
      (await db.from('web_sessions').where('user_id', user.id)).map((row) => row.id),
      [live.id]
    )
  })

  test('deletes expired rows of the database session store', async ({ assert }) => {
    await db.table('sessions').insert([
      { id: 'store-expired', data: '{}', expires_at: NOW.minus({ minutes: 1 }).toJSDate() },
      { id: 'store-live', data: '{}', expires_at: NOW.plus({ hours: 1 }).toJSDate() },
    ])
    await new WebSessionRetentionJob(() => NOW).handle()
    const ids = (await db.from('sessions').whereIn('id', ['store-expired', 'store-live'])).map(
      (row) => row.id
    )
    assert.deepEqual(ids, ['store-live'])
  })
})

test.group('describeUserAgent', () => {
  test('browser and system in words', ({ assert }) => {
    const cases: Array<[string, string | null, string | null]> = [
      [
        'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
        'Chrome',
        'Linux',
      ],
      [
        'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0',
        'Edge',
        'Windows',
      ],
      [
        'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
        'Safari',
        'macOS',
      ],
      [
        'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
        'Safari',
        'iOS',
      ],
      [
        'Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0',
        'Firefox',
        'Android',
      ],
      [
        'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36',
        'Chrome',
        'Linux',
      ],
      ['curl/8.0', null, null],
    ]
    for (const [userAgent, browser, os] of cases)
      assert.deepEqual(describeUserAgent(userAgent), { browser, os }, userAgent)
    assert.deepEqual(describeUserAgent(null), { browser: null, os: null })
  })
})
