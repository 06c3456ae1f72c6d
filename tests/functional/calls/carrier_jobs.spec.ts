import { randomBytes } from 'node:crypto'
import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import app from '@adonisjs/core/services/app'
import testUtils from '@adonisjs/core/services/test_utils'
import CarrierActivationJob from '#calls/jobs/carrier_activation_job'
import CarrierAnnouncementMailJob from '#calls/jobs/carrier_announcement_mail_job'
import CarrierState from '#calls/models/carrier_state'
import SubProcessorChange from '#calls/models/sub_processor_change'
import CarrierLifecycleService from '#calls/services/carrier_lifecycle_service'
import type { Job } from '#core/queue/types'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { auditMark, auditSince } from '#tests/support/audit'
import { fakeCarriers } from '#tests/support/carriers'
import { lastMailTo } from '#tests/support/mail'

async function superadmin() {
  return makeUser('superadmin')
}

/** Records what is dispatched on the app's queue instead of running it, until cleanup. */
async function recordDispatches(cleanup: (fn: () => void) => void) {
  const queue = await app.container.make('jobs.queue')
  const dispatched: Array<{ name: string; payload: unknown }> = []
  const original = queue.dispatch
  queue.dispatch = async <P>(job: Job<P>, payload: P) => {
    dispatched.push({ name: job.name, payload })
  }
  cleanup(() => {
    queue.dispatch = original
  })
  return dispatched
}

test.group('Carrier jobs', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => fakeCarriers())

  test('the activation tick activates carriers whose effective date has come, audited as the system', async ({
    assert,
  }) => {
    const admin = await superadmin()
    const lifecycle = await app.container.make(CarrierLifecycleService)
    await lifecycle.announce('eu_alpha', admin, '127.0.0.1', DateTime.utc())
    await lifecycle.announce('eu_beta', admin, '127.0.0.1', DateTime.utc().plus({ days: 3 }))
    // Explicit timestamp: eu_alpha became effective yesterday (announce refuses past dates).
    await CarrierState.query()
      .where('carrier_name', 'eu_alpha')
      .update({
        effective_at: DateTime.utc()
          .minus({ days: 1 })
          .startOf('day')
          .toSQL({ includeOffset: false }),
      })
    const mark = await auditMark()

    await new CarrierActivationJob().handle()

    assert.equal((await CarrierState.findByOrFail('carrier_name', 'eu_alpha')).lifecycle, 'active')
    assert.equal(
      (await CarrierState.findByOrFail('carrier_name', 'eu_beta')).lifecycle,
      'announced',
      'not yet effective'
    )
    const entries = await auditSince(mark).where('action', 'carrier.activated')
    assert.lengthOf(entries, 1)
    assert.equal(entries[0].targetId, 'eu_alpha')
    assert.isNull(entries[0].actorId)
    assert.deepEqual(entries[0].details, { by: 'system' })
    assert.isNotNull(
      await SubProcessorChange.query()
        .where('carrier_name', 'eu_alpha')
        .where('change', 'activated')
        .first()
    )

    // A second tick finds nothing to do
    await new CarrierActivationJob().handle()
    assert.lengthOf(await auditSince(mark).where('action', 'carrier.activated'), 1)
  })

  test('announcing hands one mail job per company to the queue instead of mailing inline', async ({
    assert,
    cleanup,
  }) => {
    const dispatched = await recordDispatches(cleanup)
    // Addresses of this run only: tmp/mail outlives runs
    const run = randomBytes(4).toString('hex')
    const first = await makeCompany('active', { privacyContactEmail: `first-${run}@example.test` })
    const second = await makeCompany('pending', {
      privacyContactEmail: `second-${run}@example.test`,
    })
    await makeCompany('terminated')

    const lifecycle = await app.container.make(CarrierLifecycleService)
    await lifecycle.announce('us_gamma', await superadmin(), '127.0.0.1')
    const jobs = dispatched.filter((entry) => entry.name === 'calls.carrier_announcement_mail')
    const effectiveDate = DateTime.utc().plus({ days: 30 }).toISODate()
    assert.deepInclude(
      jobs.map((job) => job.payload),
      { companyId: first.id, carrierName: 'us_gamma', effectiveDate }
    )
    assert.deepInclude(
      jobs.map((job) => job.payload),
      { companyId: second.id, carrierName: 'us_gamma', effectiveDate }
    )
    assert.isNull(await lastMailTo(first.privacyContactEmail), 'nothing was mailed inline')

    await new CarrierAnnouncementMailJob().handle({
      companyId: first.id,
      carrierName: 'us_gamma',
      effectiveDate: effectiveDate!,
    })
    const mail = await lastMailTo(first.privacyContactEmail)
    assert.include(mail!.subject, 'US Gamma Inc.')
    assert.include(mail!.html, effectiveDate!)

    // Withdrawn before the job ran: no mail for a carrier that is no longer announced
    await lifecycle.withdraw('us_gamma', await superadmin(), '127.0.0.1')
    await new CarrierAnnouncementMailJob().handle({
      companyId: second.id,
      carrierName: 'us_gamma',
      effectiveDate: effectiveDate!,
    })
    assert.isNull(await lastMailTo(second.privacyContactEmail))
  })
})
