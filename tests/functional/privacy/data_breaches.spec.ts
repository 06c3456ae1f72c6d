import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import app from '@adonisjs/core/services/app'
import testUtils from '@adonisjs/core/services/test_utils'
import DataBreach from '#privacy/models/data_breach'
import DataBreachService, { BreachError } from '#privacy/services/data_breach_service'
import BreachDeadlineJob from '#privacy/jobs/breach_deadline_job'
import DataSubjectRequestRetentionJob from '#privacy/jobs/data_subject_request_retention_job'
import { DATA_BREACH_RETENTION_YEARS } from '#privacy/personal_data'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { auditMark, auditSince } from '#tests/support/audit'
import { drainJobs, recordDispatches } from '#tests/support/jobs'
import { lastMailTo } from '#tests/support/mail'
import { enableTwoFactor } from '#tests/support/two_factor'

/**
 * The breach workflow (Art. 33, 34 GDPR): recorded with the 72-hour deadline for the authority on
 * an injected clock, the owners of the affected companies notified once from the template, the
 * report noted (late only with a reason), every step audited.
 */
test.group('Privacy: personal-data breaches', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('retention: a closed record goes with its notices 3 years after closing; an open one stays', async ({
    assert,
  }) => {
    assert.equal(DATA_BREACH_RETENTION_YEARS, 3)
    const officer = await makeUser('privacy_officer')
    const company = await makeCompany('active')
    await makeUser('owner', company)
    const breaches = await app.container.make(DataBreachService)
    const aware = DateTime.fromISO('2026-11-02T08:00:00Z')
    breaches.now = () => aware.plus({ hours: 1 })
    const facts = {
      nature: 'Fehlversand',
      dataConcerned: 'Rufnummern',
      consequences: 'gering',
      measures: 'Löschung bestätigt',
      role: 'processor' as const,
      becameAwareAt: aware,
    }
    const closed = await breaches.record(officer, { ...facts, title: 'geschlossen' }, null)
    const open = await breaches.record(officer, { ...facts, title: 'offen' }, null)
    await breaches.notifyOwners(officer, closed, [company.id], null)
    await breaches.close(officer, closed, null)
    await drainJobs()
    const closedAt = (await DataBreach.findOrFail(closed.id)).closedAt!
    const retention = new DataSubjectRequestRetentionJob()

    await retention.handle({ now: closedAt.plus({ years: 3, days: -1 }).toISO()! })
    assert.isNotNull(await DataBreach.find(closed.id), 'still within the 3 years')
    await retention.handle({ now: closedAt.plus({ years: 3, days: 1 }).toISO()! })
    assert.isNull(await DataBreach.find(closed.id))
    assert.isNotNull(await DataBreach.find(open.id), 'an open record stays')
  })

  test('72 hours from awareness; owners notified once from the template; a late report needs its reason', async ({
    assert,
  }) => {
    const officer = await makeUser('privacy_officer')
    const first = await makeCompany('active')
    const second = await makeCompany('active')
    const owner = await makeUser('owner', first)
    const member = await makeUser('member', first)
    const otherOwner = await makeUser('owner', second)
    const breaches = await app.container.make(DataBreachService)
    const aware = DateTime.fromISO('2026-11-02T08:00:00Z')
    let now = aware.plus({ hours: 2 })
    breaches.now = () => now
    const mark = await auditMark()

    const breach = await breaches.record(
      officer,
      {
        title: 'Fehlversand',
        nature: 'Eine Übersicht ging an die falsche Adresse.',
        dataConcerned: 'Rufnummern von 12 Benutzern',
        consequences: 'gering',
        measures: 'Löschung bestätigt',
        role: 'both',
        becameAwareAt: aware,
      },
      '127.0.0.1'
    )
    assert.equal(breach.authorityDueAt.toMillis(), aware.plus({ hours: 72 }).toMillis())
    assert.deepEqual(await breaches.authorityOverdue(), [])

    assert.equal(await breaches.notifyOwners(officer, breach, [first.id, second.id], null), 2)
    await drainJobs()
    const notice = await lastMailTo(owner.email)
    assert.include(notice!.html, 'Art. 33 Abs. 2')
    assert.include(notice!.html, 'Rufnummern von 12 Benutzern')
    assert.isNotNull(await lastMailTo(otherOwner.email))
    assert.isNull(await lastMailTo(member.email), 'owners only')
    await assert.rejects(
      () => breaches.notifyOwners(officer, breach, [first.id], null),
      BreachError
    )

    now = aware.plus({ hours: 73 })
    assert.deepEqual(
      (await breaches.authorityOverdue()).map((row) => row.id),
      [breach.id]
    )
    try {
      await breaches.authorityNotified(
        officer,
        breach,
        { reference: 'LDI-1', delayReason: null },
        null
      )
      assert.fail('a late report needs its reason')
    } catch (error) {
      assert.equal((error as BreachError).reason, 'delay_reason_missing')
    }
    await breaches.authorityNotified(
      officer,
      breach,
      { reference: 'LDI-1', delayReason: 'Umfang erst am dritten Tag geklärt' },
      null
    )
    assert.deepEqual(await breaches.authorityOverdue(), [])
    const actions = (await auditSince(mark)).map((row: any) => row.action)
    assert.includeMembers(actions, [
      'privacy.breach.recorded',
      'privacy.breach.owners_notified',
      'privacy.breach.authority_notified',
    ])
  })

  test('staff record a breach and notify a company through the pages; a processor-only breach owes no report', async ({
    client,
    assert,
  }) => {
    const officer = await makeUser('privacy_officer')
    await enableTwoFactor(officer)
    const company = await makeCompany('active')
    const owner = await makeUser('owner', company)
    const recorded = await client
      .post('/admin/privacy/breaches')
      .form({
        title: 'Falsch konfigurierter Export',
        became_aware_at: '2026-11-30T09:15',
        role: 'processor',
        nature: 'Export kurzzeitig öffentlich',
        data_concerned: 'Namen und E-Mail-Adressen',
        consequences: 'gering',
        measures: 'Zugriff gesperrt',
      })
      .withCsrfToken()
      .loginAs(officer)
      .redirects(0)
    recorded.assertStatus(302)
    const breach = await DataBreach.findByOrFail('title', 'Falsch konfigurierter Export')
    assert.equal(breach.becameAwareAt.setZone('Europe/Berlin').toFormat('HH:mm'), '09:15')
    const page = await client.get(`/admin/privacy/breaches/${breach.id}`).loginAs(officer)
    page.assertStatus(200)
    assert.include(page.text(), 'data-state="none"')
    await client
      .post(`/admin/privacy/breaches/${breach.id}/notices`)
      .form({ 'company_ids[]': String(company.id) })
      .withCsrfToken()
      .loginAs(officer)
    await drainJobs()
    assert.include((await lastMailTo(owner.email))!.html, 'Falsch konfigurierter Export')
    const after = await client.get(`/admin/privacy/breaches/${breach.id}`).loginAs(officer)
    assert.include(after.text(), 'id="breach-notices"')
  })
})

test.group('Privacy: breach deadline alerts', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('a warning a day before the 72 hours end, critical after, cleared once the report is noted', async ({
    assert,
    cleanup,
  }) => {
    // The alert channel's deliveries are recorded, not run (they would outlive the rolled-back test)
    await recordDispatches(cleanup)
    const officer = await makeUser('privacy_officer')
    const breaches = await app.container.make(DataBreachService)
    const aware = DateTime.fromISO('2026-11-02T08:00:00Z')
    const breach = await breaches.record(
      officer,
      {
        title: 'Geheimer Titel',
        nature: 'x',
        dataConcerned: 'y',
        consequences: 'z',
        measures: 'w',
        role: 'controller',
        becameAwareAt: aware,
      },
      null
    )
    const job = new BreachDeadlineJob()
    const channel = await app.container.make('alerts')
    const key = `privacy_breach_deadline:${breach.id}`

    await job.handle({ now: aware.plus({ hours: 40 }).toISO()! })
    assert.isNull(await channel.open(key), 'more than a day left')
    await job.handle({ now: aware.plus({ hours: 50 }).toISO()! })
    assert.equal((await channel.open(key))!.severity, 'warning')
    await job.handle({ now: aware.plus({ hours: 73 }).toISO()! })
    const alert = (await channel.open(key))!
    assert.equal(alert.severity, 'critical')
    assert.notInclude(JSON.stringify(alert.facts), 'Geheimer Titel', 'no breach text in the alert')

    breaches.now = () => aware.plus({ hours: 74 })
    await breaches.authorityNotified(
      officer,
      breach,
      { reference: 'LDI-2', delayReason: 'Umfang erst spät bekannt' },
      null
    )
    await job.handle({ now: aware.plus({ hours: 75 }).toISO()! })
    assert.isNull(await channel.open(key), 'cleared once reported')
  })
})
