import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import app from '@adonisjs/core/services/app'
import { carriers, defineConfig } from '#calls/carriers/define_config'
import type { CarrierHealth } from '#calls/carriers/types'
import CarrierState from '#calls/models/carrier_state'
import CarrierHealthService from '#calls/services/carrier_health_service'
import { CarrierHealthCheck } from '#calls/monitoring/call_checks'
import Alert from '#core/alerts/alert'
import AlertChannel from '#core/alerts/alert_channel'
import AlertDeliveryJob from '#core/alerts/alert_delivery_job'
import { verifyWebhook } from '#core/alerts/webhook'
import Monitoring from '#core/monitoring/monitoring'
import MonitorReading from '#core/monitoring/monitor_reading'
import AlertRuleState from '#core/monitoring/alert_rule_state'
import alertRules from '#config/alert_rules'
import { fakeCarriers } from '#tests/support/carriers'
import { recordDispatches } from '#tests/support/jobs'
import { sentMails } from '#tests/support/mail'
import { startSipp, type SippProcess } from '#tests/support/sip_peers'

/**
 * The carrier-down rule of config/alert_rules.ts against a real peer: sipp answers OPTIONS as the
 * carrier, stops (killed), and comes back on the same port. The carrier health monitor runs on
 * real time (1 s rounds, down after 2 failed ones); the rules run on an injected clock, so the
 * hold time before clearing (120 s) takes no waiting. Raising and clearing each reach the on-call
 * mailbox and a signed webhook.
 */

const SECRET = 'carrier-down-webhook-secret-of-32-chars+'
const ONCALL = 'oncall-carrier-down@fluffycall.test'
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function healthUntil(
  service: CarrierHealthService,
  check: (health: CarrierHealth) => boolean,
  timeoutMs: number
) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const health = service.health('local')
    if (health && check(health)) return health
    if (Date.now() > deadline)
      throw new Error(`carrier local: health still ${JSON.stringify(health)} after ${timeoutMs} ms`)
    await sleep(50)
  }
}

function optionsCarrier(port?: number) {
  return startSipp({
    scenario: 'uas_options.xml',
    transport: 'u1',
    calls: 1000,
    timeoutSeconds: 60,
    ...(port ? { port } : {}),
  })
}

test.group('Alert rules: a sipp carrier that stops answering OPTIONS', () => {
  test('carrier_down fires when sipp is gone, clears after the hold time once it is back; mail and signed webhook each time', async ({
    assert,
    cleanup,
  }) => {
    const stack = await app.container.make('sip.stack')
    if (!stack.layer.started) throw new Error('the SIP provider did not start the stack')

    // Where alerts go: a webhook receiver on loopback and the on-call mailbox
    const hooks: Array<{ body: string; headers: IncomingMessage['headers'] }> = []
    const server = createServer((request, response) => {
      let body = ''
      request.on('data', (chunk) => (body += chunk))
      request.on('end', () => {
        hooks.push({ body, headers: request.headers })
        response.end('ok')
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    cleanup(() => new Promise<void>((resolve) => server.close(() => resolve())))
    const settings = {
      webhookUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
      webhookSecret: SECRET,
      mailTo: [ONCALL],
      retentionMonths: 6,
      appUrl: 'http://localhost:3333',
    }
    const clock = { now: DateTime.utc().startOf('second') }
    const dispatched = await recordDispatches(cleanup)
    const delivery = new AlertDeliveryJob(
      await app.container.make('alerts.directory'),
      settings,
      await app.container.make('logger'),
      () => clock.now
    )
    const channel = new AlertChannel(
      await app.container.make('jobs.queue'),
      delivery,
      settings,
      () => clock.now
    )
    const deliver = async () => {
      for (const entry of dispatched.splice(0)) await delivery.handle(entry.payload)
    }
    const rule = alertRules.find((entry) => entry.name === 'carrier_down')!
    assert.equal(rule.clearAfterSeconds, 120)
    const monitoring = new Monitoring([rule], channel, () => clock.now)

    // sipp as the active carrier 'local', watched by the health service
    let sipp: SippProcess = await optionsCarrier()
    cleanup(() => sipp.stop())
    const restore = await fakeCarriers(
      defineConfig({
        regions: {
          eu: {
            carriers: {
              local: carriers.local({
                port: sipp.port,
                healthCheck: { intervalSeconds: 1, timeoutMs: 400, failuresBeforeDown: 2 },
              }),
            },
          },
        },
      })
    )
    await CarrierState.query().where('carrierName', 'local').delete()
    await CarrierState.create({ carrierName: 'local', enabled: true, lifecycle: 'active' })
    const service = await app.container.make(CarrierHealthService)
    cleanup(async () => {
      await CarrierState.query().where('carrierName', 'local').delete()
      await service.sync()
      restore()
      const alerts = await Alert.query().where('key', 'like', 'ops_carrier_down%')
      for (const alert of alerts) await alert.delete()
      await AlertRuleState.query().where('rule', 'carrier_down').delete()
      await MonitorReading.query().where('check_name', 'carrier_health').delete()
    })
    await service.sync()
    // The check as the app registers it, read every 5 minutes (stale after 10)
    monitoring.register(new CarrierHealthCheck(async () => service, 300))
    const mailsBefore = (await sentMails()).filter((mail) => mail.to.includes(ONCALL)).length

    await healthUntil(service, (health) => health.options === 'up', 5000)
    await monitoring.run()
    assert.isNull(await channel.open('ops_carrier_down:local'), 'up: no alert')

    // sipp stops answering
    sipp.kill()
    await healthUntil(service, (health) => health.options === 'down', 8000)
    clock.now = clock.now.plus({ minutes: 5 })
    await monitoring.run({ force: true })
    const open = await channel.open('ops_carrier_down:local')
    assert.exists(open, 'down: the alert is open')
    assert.equal(open!.severity, 'critical')
    assert.equal(open!.kind, 'ops_carrier_down')
    assert.include(open!.facts, { carrier: 'local', state: 'down', value: 1, subject: 'local' })
    await deliver()

    // Still down a minute later: the same alert, no second mail
    clock.now = clock.now.plus({ minutes: 1 })
    await monitoring.run({ force: true })
    assert.lengthOf(dispatched, 0, 'deduplicated: nothing new to deliver')

    // sipp is back on the same port
    sipp = await optionsCarrier(sipp.port)
    await healthUntil(service, (health) => health.options === 'up', 8000)
    clock.now = clock.now.plus({ minutes: 1 })
    await monitoring.run({ force: true })
    assert.exists(await channel.open('ops_carrier_down:local'), 'up for less than 120 s: held')
    clock.now = clock.now.plus({ seconds: 120 })
    await monitoring.run({ force: true })
    assert.isNull(await channel.open('ops_carrier_down:local'), 'cleared after the hold time')
    await deliver()

    const mails = (await sentMails()).filter((mail) => mail.to.includes(ONCALL)).slice(mailsBefore)
    assert.lengthOf(mails, 2, 'one mail when raised, one when cleared')
    assert.match(mails[0].subject, /Carrier local is down|Carrier local ist ausgefallen/)
    assert.match(mails[1].subject, /cleared|behoben|aufgehoben/i)
    assert.lengthOf(hooks, 2)
    const events = hooks.map(({ body, headers }) => {
      assert.isTrue(
        verifyWebhook(
          SECRET,
          Number(headers['x-fluffycall-timestamp']),
          body,
          String(headers['x-fluffycall-signature'])
        ),
        'signed with the secret'
      )
      const payload = JSON.parse(body)
      return `${payload.event} ${payload.alert.key}`
    })
    assert.deepEqual(events, ['raised ops_carrier_down:local', 'cleared ops_carrier_down:local'])
  }).timeout(40_000)
})
