import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import app from '@adonisjs/core/services/app'
import db from '@adonisjs/lucid/services/db'
import testUtils from '@adonisjs/core/services/test_utils'
import CallDataRetentionJob from '#calls/jobs/call_data_retention_job'
import JobRun from '#core/monitoring/job_run'
import Monitoring from '#core/monitoring/monitoring'
import { tomResults } from '#core/monitoring/tom_results'
import User from '#accounts/models/user'
import { LOCKOUT_CHECK_EMAIL } from '#accounts/monitoring/tom_probes'
import { cdrRetentionProbe, encryptedLegsProbe } from '#calls/monitoring/tom_probes'
import alertRules from '#config/alert_rules'
import type { AlertFacts, AlertSeverity } from '#core/alerts/types'
import { finishedCdr } from '#tests/support/calls'
import { makeCompany, makeUser } from '#tests/support/accounts'

/**
 * The live proofs on the public TOMs page: the app's TOM probes run through the monitoring on an
 * injected clock; the page and its JSON show each result and time; a CDR older than 6 months turns
 * its check red and raises tom_check_failed; a check not run for two intervals is red too.
 */

class RecordingChannel {
  raised: Array<{ key: string; severity: AlertSeverity; facts: AlertFacts }> = []
  async raise(key: string, severity: AlertSeverity, facts: AlertFacts) {
    this.raised.push({ key, severity, facts })
    return {} as any
  }
  async clear() {
    return false
  }
}

async function setup() {
  const appMonitoring = await app.container.make('monitoring')
  const toms = appMonitoring.checks.find((check) => check.name === 'toms')
  if (!toms) throw new Error('the app registers no TOM checks')
  const clock = { now: DateTime.utc().startOf('second') }
  const channel = new RecordingChannel()
  const monitoring = new Monitoring(
    alertRules.filter((rule) => rule.name === 'tom_check_failed'),
    channel,
    () => clock.now
  )
  monitoring.register(toms)
  return { clock, channel, monitoring, appMonitoring }
}

const statusOf = (html: string, key: string) =>
  new RegExp(`data-check="${key}" data-status="([a-z_]+)"`).exec(html)?.[1]

test.group('TOM checks on the public TOMs page', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('each measure shows its check, result and time; an old CDR turns the retention check red and raises an alert', async ({
    assert,
    client,
  }) => {
    const { clock, channel, monitoring } = await setup()
    const postgres = db.connection().dialect.name === 'postgres'
    // The retention job ran an hour ago
    await JobRun.updateOrCreate(
      { job: new CallDataRetentionJob().name },
      {
        intervalSeconds: 6 * 3600,
        scheduledAt: clock.now.minus({ days: 1 }),
        lastSuccessAt: clock.now.minus({ hours: 1 }),
      }
    )
    await monitoring.run({ force: true })

    const page = await client.get('/transparency/toms')
    page.assertStatus(200)
    const html = page.text()
    assert.equal(statusOf(html, 'cdr_retention'), 'passed')
    assert.equal(statusOf(html, 'login_lockout'), 'passed')
    assert.equal(statusOf(html, 'sub_processors'), 'passed')
    assert.equal(statusOf(html, 'audit_append_only'), postgres ? 'passed' : 'not_applicable')
    assert.equal(statusOf(html, 'encrypted_legs'), 'not_applicable')
    for (const key of ['tls_certificate', 'backup_age'])
      assert.oneOf(statusOf(html, key), ['passed', 'not_applicable'], key)
    assert.include(html, 'Verbindungsdaten nach 6 Monaten gelöscht')
    assert.include(html, clock.now.toFormat('yyyy-MM-dd HH:mm:ss'), 'the time of the run')
    assert.lengthOf(channel.raised, 0)

    // The lockout account is staff-only and never appears in a customer's audit log
    const account = await User.findByOrFail('email', LOCKOUT_CHECK_EMAIL)
    assert.isNull(account.companyId)
    assert.isNotNull(account.disabledAt)
    const entries = await db.from('audit_entries').where('actor_id', account.id)
    assert.isAtLeast(entries.length, 5)
    assert.isTrue(entries.every((entry) => entry.company_id === null))

    // Break the measure: a CDR from 7 months ago is still there
    const company = await makeCompany('active')
    const user = await makeUser('member', company)
    const startedAt = clock.now.minus({ months: 7 })
    await finishedCdr(company, user, startedAt)
    clock.now = clock.now.plus({ minutes: 1 })
    await monitoring.run({ force: true })
    const red = (await client.get('/transparency/toms')).text()
    assert.equal(statusOf(red, 'cdr_retention'), 'failed')
    assert.match(red, /data-check="cdr_retention"[\s\S]*?class="tom-status tom-failed"/)
    assert.deepEqual(
      channel.raised.map((entry) => entry.key),
      ['ops_tom_check_failed:cdr_retention']
    )
    assert.equal(channel.raised[0].facts.olderThanSixMonths, 1)

    const json = await client.get('/transparency/toms.json')
    json.assertStatus(200)
    const cdrCheck = json.body().checks.find((check: any) => check.key === 'cdr_retention')
    assert.equal(cdrCheck.status, 'failed')
    assert.equal(cdrCheck.facts.olderThanSixMonths, 1)
    assert.equal(cdrCheck.checkedAt, clock.now.toISO({ suppressMilliseconds: true }))
  })

  test('the retention check: a job scheduled for the first time has two intervals for its first run', async ({
    assert,
  }) => {
    const now = DateTime.utc().startOf('second')
    const probe = cdrRetentionProbe()
    const scheduled = (hoursAgo: number) =>
      JobRun.updateOrCreate(
        { job: new CallDataRetentionJob().name },
        {
          intervalSeconds: 6 * 3600,
          scheduledAt: now.minus({ hours: hoursAgo }),
          lastSuccessAt: null,
        }
      )
    // A fresh installation: scheduled at its start an hour ago, not run yet
    await scheduled(1)
    assert.isTrue((await probe.run(now.toJSDate())).ok)
    // Two intervals without a run fail it, as a last success that long ago does
    await scheduled(13)
    assert.isFalse((await probe.run(now.toJSDate())).ok)
  })

  test('encrypted legs: the shares of the last 30 days; a plain leg of an "encrypted only" company fails it, 112 and carriers do not', async ({
    assert,
  }) => {
    // Ten years ahead: only the CDRs made here are in its window
    const now = DateTime.utc().plus({ years: 10 }).startOf('second')
    const probe = encryptedLegsProbe()
    assert.deepEqual(await probe.run(now.toJSDate()), {
      ok: null,
      facts: { detail: 'no_legs_recorded' },
    })
    const strict = await makeCompany('active')
    strict.encryptedOnly = true
    await strict.save()
    const relaxed = await makeCompany('active')
    const strictUser = await makeUser('member', strict)
    const relaxedUser = await makeUser('member', relaxed)
    const legs = (caller: boolean, callee: boolean) => ({
      callerSignallingEncrypted: caller,
      callerMediaEncrypted: caller,
      calleeSignallingEncrypted: callee,
      calleeMediaEncrypted: callee,
    })
    const at = now.minus({ days: 1 })
    // A TLS phone of the strict company out to a plain carrier: its own leg is encrypted
    await finishedCdr(strict, strictUser, at, legs(true, false))
    // 112 in the clear from the strict company: put through on purpose
    await finishedCdr(strict, strictUser, at, { ...legs(false, false), emergency: true })
    // The relaxed company's plain phone, and an old CDR outside the window
    await finishedCdr(relaxed, relaxedUser, at, legs(false, false))
    await finishedCdr(strict, strictUser, now.minus({ days: 40 }), legs(false, false))
    // A refused call: no legs
    await finishedCdr(strict, strictUser, at, { answeredAt: null, sipStatus: 403 })

    const passing = await probe.run(now.toJSDate())
    assert.deepEqual(passing, {
      ok: true,
      facts: {
        legsRecorded: 6,
        signallingEncryptedPercent: 16.7,
        mediaEncryptedPercent: 16.7,
        plainAgainstPolicy: 0,
        endToEndEncryptedCalls: 0,
      },
    })

    // Two web phones that both confirmed their end-to-end keys
    await finishedCdr(strict, strictUser, at, {
      ...legs(true, true),
      direction: 'internal',
      endToEndEncrypted: true,
    })
    assert.equal((await probe.run(now.toJSDate())).facts?.endToEndEncryptedCalls, 1)

    // A carrier calls the strict company, whose phone took the call in the clear
    await finishedCdr(strict, strictUser, at, { ...legs(false, false), direction: 'inbound' })
    const failing = await probe.run(now.toJSDate())
    assert.isFalse(failing.ok)
    assert.equal(failing.facts?.plainAgainstPolicy, 1)
    assert.equal(failing.facts?.legsRecorded, 10)
  })

  test('the hourly job on the queue runs the checks and stores their results', async ({
    assert,
  }) => {
    const { appMonitoring } = await setup()
    const { default: TomChecksJob } = await import('#core/monitoring/tom_checks_job')
    await new TomChecksJob().handle()
    const results = await tomResults(appMonitoring)
    assert.equal(results.find((check) => check.key === 'login_lockout')?.status, 'passed')
    assert.equal(results.find((check) => check.key === 'encrypted_legs')?.status, 'not_applicable')
  })

  test('a check not run for two intervals is shown as not run (red); English page', async ({
    assert,
    client,
  }) => {
    const { clock, monitoring, appMonitoring } = await setup()
    await monitoring.run({ force: true })
    const later = await tomResults(appMonitoring, clock.now.plus({ hours: 2, minutes: 1 }))
    assert.isTrue(later.every((check) => check.status === 'not_run'))
    const soon = await tomResults(appMonitoring, clock.now.plus({ hours: 1 }))
    assert.equal(soon.find((check) => check.key === 'login_lockout')?.status, 'passed')

    const page = await client.get('/transparency/toms').header('accept-language', 'en')
    assert.include(page.text(), 'Call metadata deleted after 6 months')
  })
})
