import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import app from '@adonisjs/core/services/app'
import testUtils from '@adonisjs/core/services/test_utils'
import Alert from '#core/alerts/alert'
import AlertEvent from '#core/alerts/alert_event'
import AlertChannel from '#core/alerts/alert_channel'
import AlertDeliveryJob from '#core/alerts/alert_delivery_job'
import AlertRedeliveryJob from '#core/alerts/alert_redelivery_job'
import AlertRetentionJob from '#core/alerts/alert_retention_job'
import { verifyWebhook } from '#core/alerts/webhook'
import type { AlertSettings } from '#core/alerts/settings'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { enableTwoFactor } from '#tests/support/two_factor'
import { recordDispatches } from '#tests/support/jobs'
import { lastMailTo } from '#tests/support/mail'

const SECRET = 'a-webhook-secret-of-at-least-32-characters'

/** A loopback receiver that answers with the given statuses in turn and keeps what it got. */
async function receiver(statuses: number[]) {
  const received: Array<{ body: string; headers: IncomingMessage['headers'] }> = []
  const server: Server = createServer((request, response) => {
    let body = ''
    request.on('data', (chunk) => (body += chunk))
    request.on('end', () => {
      received.push({ body, headers: request.headers })
      response.statusCode = statuses.shift() ?? 200
      response.end('ok')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/fluffycall`
  return {
    url,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

async function channel(settings: Partial<AlertSettings>, clock: { now: DateTime }) {
  const full: AlertSettings = {
    webhookUrl: null,
    webhookSecret: null,
    mailTo: [],
    retentionMonths: 6,
    appUrl: 'http://localhost:3333',
    ...settings,
  }
  const delivery = new AlertDeliveryJob(
    await app.container.make('alerts.directory'),
    full,
    await app.container.make('logger'),
    () => clock.now
  )
  const alerts = new AlertChannel(
    await app.container.make('jobs.queue'),
    delivery,
    full,
    () => clock.now
  )
  return { alerts, delivery, redelivery: new AlertRedeliveryJob(delivery, () => clock.now) }
}

test.group('Alert channel', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('raising is deduplicated per key, escalates once, clears, and opens anew after clearing', async ({
    assert,
    cleanup,
  }) => {
    const dispatched = await recordDispatches(cleanup)
    const clock = { now: DateTime.utc().startOf('second') }
    const { alerts } = await channel({}, clock)

    const first = await alerts.raise('carrier_down:eu_alpha', 'warning', {
      carrier: 'eu_alpha',
      failedChecks: 3,
    })
    clock.now = clock.now.plus({ minutes: 1 })
    const again = await alerts.raise('carrier_down:eu_alpha', 'warning', {
      carrier: 'eu_alpha',
      failedChecks: 5,
    })
    assert.equal(again.id, first.id)
    assert.equal(again.raiseCount, 2)
    assert.deepEqual(again.facts, { carrier: 'eu_alpha', failedChecks: 5 })
    assert.lengthOf(dispatched, 1, 'a repeated raise sends nothing')

    clock.now = clock.now.plus({ minutes: 1 })
    const worse = await alerts.raise('carrier_down:eu_alpha', 'critical', {
      carrier: 'eu_alpha',
      failedChecks: 9,
    })
    assert.equal(worse.severity, 'critical')
    await alerts.raise('carrier_down:eu_alpha', 'warning', { carrier: 'eu_alpha', failedChecks: 2 })
    assert.equal(
      (await Alert.findOrFail(first.id)).severity,
      'critical',
      'an open alert keeps its highest severity'
    )

    assert.isTrue(await alerts.clear('carrier_down:eu_alpha'))
    assert.isFalse(await alerts.clear('carrier_down:eu_alpha'), 'nothing open to clear')
    const events = await AlertEvent.query().where('alert_id', first.id).orderBy('id')
    assert.deepEqual(
      events.map((event) => [event.event, event.severity]),
      [
        ['raised', 'warning'],
        ['escalated', 'critical'],
        ['cleared', 'critical'],
      ]
    )
    assert.deepEqual(
      dispatched.map((entry) => entry.payload.eventId),
      events.map((event) => event.id)
    )

    const reopened = await alerts.raise('carrier_down:eu_alpha', 'warning', {
      carrier: 'eu_alpha',
      failedChecks: 3,
    })
    assert.notEqual(reopened.id, first.id)
    assert.equal(reopened.kind, 'carrier_down')
    assert.equal(
      (await Alert.query().where('key', 'carrier_down:eu_alpha').where('status', 'open')).length,
      1
    )
  })

  test('the database holds at most one open alert per key', async ({ assert }) => {
    const now = DateTime.utc()
    const row = {
      key: 'dup:1',
      kind: 'dup',
      severity: 'warning' as const,
      status: 'open' as const,
      companyId: null,
      notifyCompany: false,
      facts: {},
      raiseCount: 1,
      raisedAt: now,
      lastRaisedAt: now,
      clearedAt: null,
    }
    await Alert.create(row)
    await assert.rejects(() => Alert.create(row))
  })

  test('delivery mails staff and, when asked, the company’s owners and admins in their language; the webhook is signed', async ({
    assert,
    cleanup,
  }) => {
    const hook = await receiver([200])
    cleanup(() => hook.close())
    const dispatched = await recordDispatches(cleanup)
    const clock = { now: DateTime.utc().startOf('second') }
    const { alerts, delivery } = await channel(
      { webhookUrl: hook.url, webhookSecret: SECRET, mailTo: ['oncall@fluffycall.test'] },
      clock
    )
    const company = await makeCompany('active')
    const owner = await makeUser('owner', company)
    owner.locale = 'en'
    await owner.save()
    const admin = await makeUser('admin', company)
    const member = await makeUser('member', company)
    const analyst = await makeUser('fraud_analyst')
    const privacyOfficer = await makeUser('privacy_officer')

    const alert = await alerts.raise(
      `fraud.test:${company.id}`,
      'critical',
      { calls: 12, country: 'SL' },
      { companyId: company.id, notifyCompany: true }
    )
    for (const entry of dispatched.splice(0)) await delivery.handle(entry.payload)

    for (const person of [owner, admin, analyst])
      assert.isNotNull(await lastMailTo(person.email), `${person.email} got the alert`)
    assert.isNotNull(await lastMailTo('oncall@fluffycall.test'))
    assert.isNull(await lastMailTo(member.email), 'members are not told')
    assert.isNull(await lastMailTo(privacyOfficer.email), 'staff without alerts.view are not told')
    const english = (await lastMailTo(owner.email))!
    assert.include(english.subject, 'FluffyCall alert (Critical)')
    assert.include(english.html, '12')
    assert.notInclude(english.html, '/admin/alerts', 'customers get no link into the admin area')
    assert.include((await lastMailTo(admin.email))!.subject, 'Kritisch')
    assert.include((await lastMailTo(analyst.email))!.html, `/admin/alerts/${alert.id}`)

    assert.lengthOf(hook.received, 1)
    const [{ body, headers }] = hook.received
    assert.isTrue(
      verifyWebhook(
        SECRET,
        Number(headers['x-fluffycall-timestamp']),
        body,
        String(headers['x-fluffycall-signature'])
      )
    )
    assert.isFalse(
      verifyWebhook(
        'another-secret-of-at-least-32-characters',
        Number(headers['x-fluffycall-timestamp']),
        body,
        String(headers['x-fluffycall-signature'])
      )
    )
    const payload = JSON.parse(body)
    assert.equal(payload.event, 'raised')
    assert.equal(payload.alert.key, `fraud.test:${company.id}`)
    assert.equal(payload.alert.severity, 'critical')
    assert.deepEqual(payload.facts, { calls: 12, country: 'SL' })
    const event = await AlertEvent.findByOrFail('alert_id', alert.id)
    assert.equal(event.webhookStatus, 'delivered')
    assert.isNotNull(event.mailedAt)

    // Running the job again sends nothing twice
    await delivery.handle({ eventId: event.id })
    assert.lengthOf(hook.received, 1)
  })

  test('a webhook receiver that fails is retried on schedule, then given up', async ({
    assert,
    cleanup,
  }) => {
    const hook = await receiver([500, 503, 200])
    cleanup(() => hook.close())
    const dispatched = await recordDispatches(cleanup)
    const clock = { now: DateTime.utc().startOf('second') }
    const { alerts, delivery, redelivery } = await channel(
      { webhookUrl: hook.url, webhookSecret: SECRET },
      clock
    )
    const alert = await alerts.raise('disk_full:node-a', 'warning', { freePercent: 4 })
    for (const entry of dispatched.splice(0)) await delivery.handle(entry.payload)
    let event = await AlertEvent.findByOrFail('alert_id', alert.id)
    assert.equal(event.webhookStatus, 'pending')
    assert.equal(event.webhookAttempts, 1)
    assert.equal(event.webhookError, 'HTTP 500')

    await redelivery.handle()
    assert.lengthOf(hook.received, 1, 'not before the retry is due')
    clock.now = clock.now.plus({ minutes: 1 })
    await redelivery.handle()
    assert.lengthOf(hook.received, 2)
    clock.now = clock.now.plus({ minutes: 5 })
    await redelivery.handle()
    event = await AlertEvent.findByOrFail('alert_id', alert.id)
    assert.equal(event.webhookStatus, 'delivered')
    assert.equal(event.webhookAttempts, 3)

    // A receiver that never answers 2xx: given up after the last retry
    const dead = await receiver(Array(10).fill(500))
    cleanup(() => dead.close())
    const other = await channel({ webhookUrl: dead.url, webhookSecret: SECRET }, clock)
    const broken = await other.alerts.raise('disk_full:node-b', 'warning', { freePercent: 3 })
    for (const entry of dispatched.splice(0)) await other.delivery.handle(entry.payload)
    for (let step = 0; step < 8; step++) {
      clock.now = clock.now.plus({ hours: 5 })
      await other.redelivery.handle()
    }
    const gaveUp = await AlertEvent.findByOrFail('alert_id', broken.id)
    assert.equal(gaveUp.webhookStatus, 'failed')
    assert.equal(gaveUp.webhookAttempts, 6)
    assert.lengthOf(dead.received, 6)
  })

  test('cleared alerts are deleted after the declared retention; open ones never', async ({
    assert,
    cleanup,
  }) => {
    await recordDispatches(cleanup)
    const clock = { now: DateTime.utc().minus({ months: 8 }) }
    const { alerts } = await channel({}, clock)
    const old = await alerts.raise('old:1', 'warning', { a: 1 })
    await alerts.clear('old:1')
    const stillOpen = await alerts.raise('open:1', 'warning', { a: 1 })
    clock.now = DateTime.utc().minus({ months: 5 })
    const recent = await alerts.raise('recent:1', 'warning', { a: 1 })
    await alerts.clear('recent:1')

    await new AlertRetentionJob(6).handle()
    assert.isNull(await Alert.find(old.id))
    assert.equal((await AlertEvent.query().where('alert_id', old.id)).length, 0)
    assert.isNotNull(await Alert.find(stillOpen.id))
    assert.isNotNull(await Alert.find(recent.id))
  })

  test('staff with alerts.view see open alerts critical first with their figures in words', async ({
    client,
    assert,
    cleanup,
  }) => {
    await recordDispatches(cleanup)
    const clock = { now: DateTime.utc() }
    const { alerts } = await channel({}, clock)
    const company = await makeCompany('active')
    await alerts.raise('carrier_down:eu_alpha', 'warning', { carrier: 'eu_alpha' })
    const critical = await alerts.raise(
      `fraud.test:${company.id}`,
      'critical',
      { calls: 1234 },
      { companyId: company.id }
    )
    const support = await makeUser('support')
    await enableTwoFactor(support)

    const page = await client.get('/admin/alerts').loginAs(support)
    page.assertStatus(200)
    const html = page.text()
    assert.isBelow(
      html.indexOf(`fraud.test:${company.id}`),
      html.indexOf('carrier_down:eu_alpha'),
      'critical first'
    )
    assert.include(html, 'Kritisch')
    assert.include(html, company.legalName)

    const detail = await client
      .get(`/admin/alerts/${critical.id}`)
      .header('Accept-Language', 'en')
      .loginAs(support)
    detail.assertStatus(200)
    assert.include(detail.text(), '1,234')
    assert.include(detail.text(), 'Critical')
  })
})

test.group('Alert channel: the job queue out of reach', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('an event the queue cannot take is delivered at once in this process (mail sent, recorded)', async ({
    assert,
  }) => {
    const clock = { now: DateTime.utc().startOf('second') }
    const settings: AlertSettings = {
      webhookUrl: null,
      webhookSecret: null,
      mailTo: ['oncall@fluffycall.test'],
      retentionMonths: 6,
      appUrl: 'http://localhost:3333',
    }
    const delivery = new AlertDeliveryJob(
      await app.container.make('alerts.directory'),
      settings,
      await app.container.make('logger'),
      () => clock.now
    )
    const queue = await app.container.make('jobs.queue')
    // What BullMQ's producer answers once its Redis is out of reach (config/redis.ts's bounds).
    const unreachable = Object.create(queue, {
      dispatch: {
        value: async () => {
          throw new Error('Reached the max retries per request limit (which is 1).')
        },
      },
    })
    const alerts = new AlertChannel(unreachable, delivery, settings, () => clock.now)

    const alert = await alerts.raise('ops_redis_unreachable:node-a', 'critical', {
      subject: 'node-a',
    })
    const event = await AlertEvent.query().where('alert_id', alert.id).firstOrFail()
    assert.isNotNull(event.mailedAt, 'delivered without the queue')
    assert.isNotNull(await lastMailTo('oncall@fluffycall.test'))
  })
})
