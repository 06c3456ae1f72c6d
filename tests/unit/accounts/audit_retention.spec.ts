import { DateTime } from 'luxon'
import { test } from '@japa/runner'
import db from '@adonisjs/lucid/services/db'
import testUtils from '@adonisjs/core/services/test_utils'
import AuditRetentionJob, { shortenEmail, shortenIp } from '#accounts/jobs/audit_retention_job'
import { AUDIT_IP_FULL_DAYS, AUDIT_RETENTION_MONTHS } from '#accounts/personal_data'
import { sqlTime } from '#core/sql_time'

test.group('shortenIp', () => {
  test('IPv4 keeps its /24 network', ({ assert }) => {
    assert.equal(shortenIp('203.0.113.77'), '203.0.113.0')
    assert.equal(shortenIp('10.1.2.3'), '10.1.2.0')
  })

  test('IPv6 keeps its /48 network', ({ assert }) => {
    assert.equal(shortenIp('2001:db8:85a3:8d3:1319:8a2e:370:7348'), '2001:db8:85a3::')
    assert.equal(shortenIp('2001:0db8:85a3:0000:0000:8a2e:0370:7334'), '2001:0db8:85a3::')
    assert.equal(shortenIp('2001:db8::1'), '2001:db8::')
    assert.equal(shortenIp('::1'), '::')
  })

  test('IPv4-mapped IPv6 is shortened as IPv4', ({ assert }) => {
    assert.equal(shortenIp('::ffff:198.51.100.23'), '198.51.100.0')
    assert.equal(shortenIp('::FFFF:198.51.100.23'), '198.51.100.0')
  })
})

/** Rows written straight to the table (the model is append-only and sets its own times). */
async function insertEntry(action: string, ip: string | null, createdAt: DateTime) {
  await db.table('audit_entries').insert({
    action,
    ip,
    ip_shortened: false,
    created_at: sqlTime(createdAt),
  })
  return action
}

async function row(action: string) {
  return db.from('audit_entries').where('action', action).first()
}

test.group('AuditRetentionJob', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('shortens IPs older than 7 days, deletes entries older than 12 months, leaves recent ones', async ({
    assert,
  }) => {
    assert.equal(AUDIT_IP_FULL_DAYS, 7)
    assert.equal(AUDIT_RETENTION_MONTHS, 12)
    const now = DateTime.utc()

    await insertEntry('test.recent', '203.0.113.10', now.minus({ days: 1 }))
    await insertEntry('test.six_days', '203.0.113.11', now.minus({ days: 6 }))
    await insertEntry('test.eight_days', '203.0.113.12', now.minus({ days: 8 }))
    await insertEntry('test.eight_days_v6', '2001:db8:abcd:12::1', now.minus({ days: 8 }))
    await insertEntry('test.no_ip', null, now.minus({ days: 30 }))
    await insertEntry('test.eleven_months', '198.51.100.200', now.minus({ months: 11 }))
    await insertEntry('test.thirteen_months', '198.51.100.201', now.minus({ months: 13 }))

    await new AuditRetentionJob().handle()

    const recent = await row('test.recent')
    assert.equal(recent.ip, '203.0.113.10')
    assert.isFalse(Boolean(recent.ip_shortened))
    const sixDays = await row('test.six_days')
    assert.equal(sixDays.ip, '203.0.113.11')
    assert.isFalse(Boolean(sixDays.ip_shortened))

    const eightDays = await row('test.eight_days')
    assert.equal(eightDays.ip, '203.0.113.0')
    assert.isTrue(Boolean(eightDays.ip_shortened))
    assert.equal((await row('test.eight_days_v6')).ip, '2001:db8:abcd::')
    assert.isNull((await row('test.no_ip')).ip)

    const elevenMonths = await row('test.eleven_months')
    assert.exists(elevenMonths, 'an entry younger than 12 months is kept')
    assert.equal(elevenMonths.ip, '198.51.100.0')
    assert.notExists(await row('test.thirteen_months'), 'an entry older than 12 months is deleted')
  })

  test('running twice does not shorten an already shortened IP again', async ({ assert }) => {
    await insertEntry('test.twice', '203.0.113.99', DateTime.utc().minus({ days: 10 }))
    const job = new AuditRetentionJob()
    await job.handle()
    await job.handle()
    const entry = await row('test.twice')
    assert.equal(entry.ip, '203.0.113.0')
    assert.isTrue(Boolean(entry.ip_shortened))
  })

  test('the address typed into a failed login is replaced by its domain and a keyed hash after 7 days', async ({
    assert,
  }) => {
    const now = DateTime.utc()
    const typed = (email: string, days: number, action = 'auth.login.failed') =>
      db.table('audit_entries').insert({
        action,
        ip: '203.0.113.9',
        ip_shortened: false,
        details: JSON.stringify({ email, attempt: 'password' }),
        created_at: sqlTime(now.minus({ days })),
      })
    await typed('Mistyped.Person@Example.test', 8)
    await typed('fresh-typo@example.test', 6)
    await typed('kept-elsewhere@example.test', 8, 'test.other_action')

    await new AuditRetentionJob().handle()

    const old = await db
      .from('audit_entries')
      .where('action', 'auth.login.failed')
      .where('details', 'like', '%example.test%')
      .orderBy('id')
    const details = old.map((entry) => JSON.parse(entry.details))
    const shortened = details.find((entry) => entry.emailHash)
    assert.exists(shortened, 'the 8-day-old entry is shortened')
    assert.notProperty(shortened, 'email')
    assert.equal(shortened.emailDomain, 'example.test')
    assert.equal(shortened.emailHash, shortenEmail('mistyped.person@example.test').emailHash)
    assert.match(shortened.emailHash, /^[0-9a-f]{16}$/)
    assert.equal(shortened.attempt, 'password', 'the rest of the details stays')
    assert.deepInclude(
      details,
      { email: 'fresh-typo@example.test', attempt: 'password' },
      'younger than 7 days: kept'
    )
    const all = await db.from('audit_entries').select('details')
    assert.isFalse(
      all.some((entry) =>
        String(entry.details ?? '')
          .toLowerCase()
          .includes('mistyped.person')
      ),
      'no trace of the old address'
    )
  })

  test('shortenEmail: one address gives one hash whatever its case; another gives another', ({
    assert,
  }) => {
    assert.deepEqual(shortenEmail('A@B.test', 'k'), shortenEmail(' a@b.test ', 'k'))
    assert.notEqual(
      shortenEmail('a@b.test', 'k').emailHash,
      shortenEmail('c@b.test', 'k').emailHash
    )
    assert.notEqual(
      shortenEmail('a@b.test', 'k').emailHash,
      shortenEmail('a@b.test', 'other key').emailHash
    )
  })
})
