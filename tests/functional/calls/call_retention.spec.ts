import { randomBytes } from 'node:crypto'
import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import testUtils from '@adonisjs/core/services/test_utils'
import type Company from '#accounts/models/company'
import type User from '#accounts/models/user'
import CallDataRetentionJob from '#calls/jobs/call_data_retention_job'
import {
  MAX_BATCH,
  nextBatchSize,
  PURGE_BATCH_BUDGET_MS,
  REST_FACTOR,
  type PurgeTimer,
} from '#calls/services/purge_batches'
import CallRecordHold from '#privacy/models/call_record_hold'
import CallRecord from '#calls/models/call_record'
import ActiveCallLeg from '#calls/models/active_call_leg'
import WebPhoneCredential from '#calls/models/web_phone_credential'
import callsPersonalData, {
  CALL_RECORD_RETENTION_MONTHS,
  DEVICE_ADDRESS_RETENTION_DAYS,
  WEB_PHONE_CREDENTIAL_GRACE_HOURS,
} from '#calls/personal_data'
import SipDeviceAddress from '#calls/models/sip_device_address'
import SipDeviceService from '#calls/services/sip_device_service'
import type { Job, JobQueue } from '#core/queue/types'
import { sqlTime } from '#core/sql_time'
import { finishedCdr } from '#tests/support/calls'
import { makeCompany, makeUser } from '#tests/support/accounts'

const cdr = (company: Company, user: User, startedAt: DateTime) =>
  finishedCdr(company, user, startedAt)

async function credential(user: User, expiresAt: DateTime, revokedAt: DateTime | null = null) {
  return WebPhoneCredential.create({
    companyId: user.companyId!,
    userId: user.id,
    sipUsername: `wp-${randomBytes(8).toString('hex')}`,
    realm: 'fluffycall.test',
    ha1Md5: 'sealed',
    ha1Sha256: 'sealed',
    sessionDigest: null,
    expiresAt,
    revokedAt,
  })
}

test.group('CallDataRetentionJob', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('deletes CDRs that started more than 6 months ago, keeps younger ones', async ({
    assert,
  }) => {
    assert.equal(CALL_RECORD_RETENTION_MONTHS, 6)
    const company = await makeCompany()
    const user = await makeUser('member', company)
    const now = DateTime.utc()
    const old = await cdr(company, user, now.minus({ months: 6, days: 1 }))
    const crashed = await cdr(company, user, now.minus({ months: 7 }))
    // A leg row left of a call this old goes with its CDR.
    await ActiveCallLeg.create({
      callRecordId: crashed.id,
      nodeId: 'retention-test',
      callId: 'old@127.0.0.1',
      localTag: 'a',
      remoteTag: 'b',
      localUri: '<sip:+4930111222@127.0.0.1>',
      remoteUri: '<sip:+4930333444@127.0.0.1>',
      remoteTarget: 'sip:carrier@127.0.0.1',
      routeSet: '[]',
      localSeq: 1,
      protocol: 'udp',
      host: '127.0.0.1',
      port: 5060,
    })
    const young = await cdr(company, user, now.minus({ months: 6 }).plus({ days: 1 }))
    const today = await cdr(company, user, now.minus({ minutes: 5 }))

    await new CallDataRetentionJob().handle()

    assert.isNull(await CallRecord.find(old.id))
    assert.isNull(await CallRecord.find(crashed.id))
    assert.isNull(await ActiveCallLeg.findBy('call_record_id', crashed.id))
    assert.isNotNull(await CallRecord.find(young.id), 'started a day inside the 6 months: kept')
    assert.isNotNull(await CallRecord.find(today.id))
  })

  test('deletes web phone logins a day after expiry or revocation, keeps valid and recent ones', async ({
    assert,
  }) => {
    assert.equal(WEB_PHONE_CREDENTIAL_GRACE_HOURS, 24)
    const user = await makeUser('member')
    const now = DateTime.utc()
    const expiredLongAgo = await credential(user, now.minus({ hours: 25 }))
    const revokedLongAgo = await credential(user, now.plus({ hours: 6 }), now.minus({ hours: 30 }))
    const expiredRecently = await credential(user, now.minus({ hours: 23 }))
    const revokedRecently = await credential(user, now.plus({ hours: 6 }), now.minus({ hours: 1 }))
    const valid = await credential(user, now.plus({ hours: 12 }))

    await new CallDataRetentionJob().handle()

    assert.isNull(await WebPhoneCredential.find(expiredLongAgo.id))
    assert.isNull(await WebPhoneCredential.find(revokedLongAgo.id))
    assert.isNotNull(await WebPhoneCredential.find(expiredRecently.id))
    assert.isNotNull(await WebPhoneCredential.find(revokedRecently.id))
    assert.isNotNull(await WebPhoneCredential.find(valid.id))
  })

  test('deletes a SIP phone’s registration address 90 days after its last registration from there', async ({
    assert,
  }) => {
    assert.equal(DEVICE_ADDRESS_RETENTION_DAYS, 90)
    const user = await makeUser('member')
    const { device } = await new SipDeviceService('fluffycall.test').create(user, 'Desk phone')
    const now = DateTime.utc()
    const address = (ip: string, lastRegisteredAt: DateTime) =>
      SipDeviceAddress.create({
        sipDeviceId: device.id,
        address: ip,
        firstRegisteredAt: lastRegisteredAt,
        lastRegisteredAt,
      })
    const old = await address('192.0.2.1', now.minus({ days: 91 }))
    const recent = await address('192.0.2.2', now.minus({ days: 89 }))

    await new CallDataRetentionJob().handle()

    assert.isNull(await SipDeviceAddress.find(old.id))
    assert.isNotNull(await SipDeviceAddress.find(recent.id))
  })

  test('works through more rows than one batch', async ({ assert }) => {
    const company = await makeCompany()
    const user = await makeUser('member', company)
    const startedAt = DateTime.utc().minus({ months: 8 })
    const rows = Array.from({ length: 2100 }, (_, index) => ({
      uuid: `${randomBytes(8).toString('hex')}-${index}`,
      company_id: company.id,
      user_id: user.id,
      direction: 'outbound',
      emergency: false,
      caller_withheld: false,
      started_at: sqlTime(startedAt),
    }))
    for (let index = 0; index < rows.length; index += 300) {
      await db.table('call_records').multiInsert(rows.slice(index, index + 300))
    }

    await new CallDataRetentionJob().handle()

    const left = await CallRecord.query().where('company_id', company.id).count('* as total')
    assert.equal(Number(left[0].$extras.total), 0)
  })

  test('purges in batches of at most 50 ms, sized by measured time, with a turn of the event loop between them; held CDRs stay', async ({
    assert,
  }) => {
    assert.equal(PURGE_BATCH_BUDGET_MS, 50)
    const company = await makeCompany()
    const user = await makeUser('member', company)
    const startedAt = DateTime.utc().minus({ months: 8 })
    const rows = Array.from({ length: 1500 }, (_, index) => ({
      uuid: `${randomBytes(8).toString('hex')}-${index}`,
      company_id: company.id,
      user_id: user.id,
      direction: 'outbound',
      emergency: false,
      caller_withheld: false,
      started_at: sqlTime(startedAt.plus({ minutes: index })),
    }))
    for (let index = 0; index < rows.length; index += 300) {
      await db.table('call_records').multiInsert(rows.slice(index, index + 300))
    }
    // A dispute holds the first 100 minutes of that day (100 records)
    await CallRecordHold.create({
      companyId: company.id,
      fromAt: startedAt,
      untilAt: startedAt.plus({ minutes: 99, seconds: 30 }),
      reason: 'Beanstandung',
      placedById: null,
      placedAt: DateTime.utc(),
      releasedById: null,
      releasedAt: null,
    })

    // Simulated cost: 0.1 ms per deleted row, twice that once 600 rows are gone (the disk gets
    // slower); the timer reports that instead of wall time, so no real-time assertion is involved.
    const batches: { rows: number; ms: number }[] = []
    const steps: string[] = []
    const rests: number[] = []
    let deleted = 0
    const timer: PurgeTimer = {
      async measure(batch) {
        const perRow = deleted >= 600 ? 0.2 : 0.1
        const count = await batch()
        deleted += count
        batches.push({ rows: count, ms: count * perRow })
        steps.push('batch')
        return { rows: count, ms: count * perRow }
      },
      async pause(lastMs) {
        steps.push('pause')
        rests.push(lastMs)
      },
    }
    await new CallDataRetentionJob(timer).handle()

    const left = await db.from('call_records').where('company_id', company.id).count('* as total')
    assert.equal(Number(left[0].total), 100, 'the held 100 are kept, the other 1,400 deleted')
    // The CDR purge comes first: its batches are the ones up to the first partial one
    // The CDR purge comes first, then the (here empty) purges of web phone logins and addresses
    assert.deepEqual(
      batches.map((batch) => batch.rows),
      [200, 250, 250, 250, 125, 125, 125, 75, 0, 0],
      'sized by time: 25 ms aimed at, halved when rows got dearer'
    )
    for (const batch of batches) assert.isAtMost(batch.ms, PURGE_BATCH_BUDGET_MS)
    // Three purges (CDRs, web phone logins, device addresses), each ends with one partial batch;
    // every other batch is followed by a turn of the event loop
    assert.equal(steps.filter((step) => step === 'pause').length, batches.length - 3)
    assert.notInclude(steps.join(' '), 'pause pause')
    // each rest is told how long the batch before it took (the real timer rests REST_FACTOR x that)
    assert.deepEqual(rests, [20, 25, 25, 50, 25, 25, 25])
    assert.equal(steps[0], 'batch')
  })

  test('the batch size follows the measured time and halves after a batch over budget', ({
    assert,
  }) => {
    // 0.1 ms per row: aims at 25 ms, i.e. 250 rows, but never more than doubles at once
    assert.equal(nextBatchSize(200, 200, 20), 250)
    assert.equal(nextBatchSize(100, 100, 1), 200)
    // a stall: 300 rows took 120 ms -> at most half
    assert.equal(nextBatchSize(300, 300, 120), 62)
    assert.equal(nextBatchSize(300, 300, 60), 125)
    assert.isAtLeast(nextBatchSize(10, 10, 5000), 10)
    // never above MAX_BATCH, however cheap the rows
    assert.equal(nextBatchSize(MAX_BATCH, MAX_BATCH, 0.5), MAX_BATCH)
    assert.equal(REST_FACTOR, 3)
  })

  test('is scheduled on the queue and named in the declared retention of what it deletes', async ({
    assert,
  }) => {
    const scheduled: string[] = []
    const queue: JobQueue = {
      driver: 'in_process',
      register: () => {},
      dispatch: async () => {},
      schedule: async <P>(job: Job<P>) => {
        scheduled.push(job.name)
      },
      start: async () => {},
      drain: async () => {},
      close: async () => {},
      counts: async () => ({ waiting: 0, active: 0, delayed: 0 }),
    }
    const { registerCallJobs } = await import('#calls/jobs/schedule')
    await registerCallJobs(queue)
    assert.include(scheduled, new CallDataRetentionJob().name)

    const retention = (table: string) =>
      callsPersonalData.tables.find((entry) => entry.table === table)?.retention
    assert.include(retention('call_records'), 'CallDataRetentionJob')
    assert.include(retention('call_records'), '6 months')
    assert.include(retention('web_phone_credentials'), 'CallDataRetentionJob')
    assert.include(retention('sip_device_addresses'), 'CallDataRetentionJob')
    assert.include(retention('sip_device_addresses'), '90 days')
  })
})
