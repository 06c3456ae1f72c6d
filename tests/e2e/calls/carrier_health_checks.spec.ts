import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import { carriers, defineConfig } from '#calls/carriers/define_config'
import type { CarrierHealth } from '#calls/carriers/types'
import CarrierState from '#calls/models/carrier_state'
import CarrierHealthService from '#calls/services/carrier_health_service'
import type SipStack from '#sip/sip_stack'
import { CarrierSignallingError } from '#calls/carriers/sip_carrier_signalling'
import { makeUser } from '#tests/support/accounts'
import { enableTwoFactor } from '#tests/support/two_factor'
import { euCarrierProfile, euSubProcessor, fakeCarriers } from '#tests/support/carriers'
import { freePort, startSipp, type SippProcess } from '#tests/support/sip_peers'

/**
 * Carrier health against real peers: sipp as a carrier answering OPTIONS (up), then gone
 * (down after the configured number of failed rounds); a TCP carrier nobody listens for (the
 * refused connection is a transport error at once, not a timeout); sipp as a carrier's
 * registrar challenging with 401 (our REGISTER with digest is accepted, and removed again when
 * the carrier stops being active). sipp's exit code is asserted where its scenario must finish.
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function sipStack(): Promise<SipStack> {
  const stack = await app.container.make('sip.stack')
  if (!stack.layer.started) throw new Error('the SIP provider did not start the stack')
  return stack
}

/** Waits until the carrier's health passes `check`; fails with the last snapshot otherwise. */
async function healthUntil(
  service: CarrierHealthService,
  name: string,
  check: (health: CarrierHealth) => boolean,
  timeoutMs: number,
  sipp?: SippProcess
): Promise<CarrierHealth> {
  const deadline = Date.now() + timeoutMs
  let exited: string | undefined
  void sipp?.done.then((outcome) => (exited = sipp.describe(outcome)))
  for (;;) {
    const health = service.health(name)
    if (health && check(health)) return health
    if (exited) throw new Error(`sipp ended first: ${exited}`)
    if (Date.now() > deadline) {
      const peer = sipp ? `\n${sipp.messages().slice(-3000)}` : ''
      throw new Error(
        `carrier ${name}: health still ${JSON.stringify(health)} after ${timeoutMs} ms${peer}`
      )
    }
    await sleep(50)
  }
}

/** Makes a configured carrier active for the health service, as the lifecycle admin would. */
async function activeState(name: string) {
  await CarrierState.query().where('carrierName', name).delete()
  return CarrierState.create({ carrierName: name, enabled: true, lifecycle: 'active' })
}

/** A fake carrier config, the state rows and the health service; all undone by `cleanup`. */
async function monitored(
  config: ReturnType<typeof defineConfig>,
  names: string[],
  cleanup: (fn: () => Promise<void>) => void
) {
  const restore = await fakeCarriers(config)
  for (const name of names) await activeState(name)
  const service = await app.container.make(CarrierHealthService)
  cleanup(async () => {
    await CarrierState.query().whereIn('carrierName', names).delete()
    // Nothing active any more: the next sync stops the monitors (and unregisters).
    await service.sync()
    restore()
  })
  await service.sync()
  return service
}

test.group('Carrier health: OPTIONS checks', () => {
  test('sipp answering OPTIONS is up; once it is gone the carrier is down after N failed rounds', async ({
    assert,
    client,
    cleanup,
  }) => {
    await sipStack()
    const sipp = await startSipp({
      scenario: 'uas_options.xml',
      transport: 'u1',
      calls: 1000,
      timeoutSeconds: 60,
      traceMessages: true,
    })
    cleanup(() => sipp.stop())
    const config = defineConfig({
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
    const service = await monitored(config, ['local'], cleanup)
    assert.deepEqual(service.watched, ['local'])

    const up = await healthUntil(service, 'local', (health) => health.options === 'up', 5000, sipp)
    assert.equal(up.lastStatus, 200)
    assert.equal(up.registration, 'not_applicable')
    assert.instanceOf(up.checkedAt, Date)
    assert.match(sipp.messages(), /OPTIONS sip:127\.0\.0\.1:\d+ SIP\/2\.0/)
    // The plugin reports what the monitor observed.
    const plugin = await (await app.container.make('carriers')).use('local')
    assert.equal(plugin.health().options, 'up')

    // The admin list and detail page show it.
    const admin = await makeUser('superadmin')
    await enableTwoFactor(admin)
    const list = await client.get('/admin/carriers').loginAs(admin)
    list.assertStatus(200)
    assert.match(list.text(), /data-carrier="local"[\s\S]*?data-options="up"/)
    const detail = await client.get('/admin/carriers/local').loginAs(admin)
    detail.assertStatus(200)
    assert.match(
      detail.text(),
      /id="carrier-health-checked">\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC · SIP 200/
    )

    sipp.kill()
    const down = await healthUntil(service, 'local', (health) => health.options === 'down', 8000)
    assert.isAtLeast(down.consecutiveFailures ?? 0, 2)
    assert.isNull(down.lastStatus, 'nothing answered')
    assert.isTrue(service.isDown('local'))
    assert.deepEqual(
      service.preferAvailable(['local']),
      ['local'],
      'with no other carrier the down one is still tried'
    )
    const page = await client.get('/admin/carriers').loginAs(admin)
    assert.match(page.text(), /data-carrier="local"[\s\S]*?data-options="down"/)
  }).timeout(40_000)

  test('a TCP carrier with nothing listening: OPTIONS fails as a transport error, not a timeout', async ({
    assert,
    cleanup,
  }) => {
    await sipStack()
    const port = await freePort('tcp')
    const started = Date.now()
    const signalling = await app.container.make('sip.carriers')
    const error = await signalling
      .sendOptions({ host: '127.0.0.1', port, transport: 'tcp' }, { timeoutMs: 10_000 })
      .then(
        () => null,
        (failure: unknown) => failure
      )
    assert.instanceOf(error, CarrierSignallingError)
    assert.equal((error as CarrierSignallingError).code, 'transport')
    assert.isBelow(
      Date.now() - started,
      5000,
      'the refused connection ended the transaction, not its timer'
    )

    const config = defineConfig({
      regions: {
        eu: {
          carriers: {
            local: carriers.local({
              port,
              transport: 'tcp',
              healthCheck: { intervalSeconds: 1, timeoutMs: 2000, failuresBeforeDown: 2 },
            }),
            // A second, reachable-or-not carrier: the B2BUA is steered away from the down one.
            local_spare: carriers.local({ port: port + 1, healthCheck: { enabled: false } }),
          },
        },
      },
    })
    const service = await monitored(config, ['local', 'local_spare'], cleanup)
    await healthUntil(service, 'local', (health) => health.options === 'down', 8000)
    assert.deepEqual(service.preferAvailable(['local', 'local_spare']), ['local_spare'])
    assert.equal(
      service.health('local_spare')?.options,
      'unknown',
      'checks switched off: never judged'
    )
  }).timeout(30_000)
})

test.group('Carrier health: registration', () => {
  test('a sipp registrar challenges with 401: our REGISTER with digest is accepted, and removed when the carrier goes', async ({
    assert,
    cleanup,
  }) => {
    await sipStack()
    const sipp = await startSipp({
      scenario: 'uas_registrar_401.xml',
      transport: 'u1',
      keys: { authuser: 'trunk-e2e', authpass: 'reg-secret-e2e' },
      timeoutSeconds: 30,
      traceMessages: true,
    })
    cleanup(() => sipp.stop())
    const profile = euCarrierProfile({
      hosts: ['127.0.0.1'],
      port: sipp.port,
      transport: 'udp',
      srtp: 'none',
      auth: {
        method: 'registration',
        username: 'trunk-e2e',
        password: 'reg-secret-e2e',
        expiresSeconds: 300,
      },
      healthCheck: { enabled: false, intervalSeconds: 30, timeoutMs: 2000, failuresBeforeDown: 3 },
    })
    const config = defineConfig({
      regions: {
        eu: {
          carriers: { reg_carrier: carriers.generic({ profile, subProcessor: euSubProcessor() }) },
        },
      },
    })
    const service = await monitored(config, ['reg_carrier'], cleanup)

    const registered = await healthUntil(
      service,
      'reg_carrier',
      (health) => health.registration !== 'unknown',
      10_000,
      sipp
    )
    assert.equal(registered.registration, 'registered', sipp.messages().slice(-3000))
    assert.equal(registered.registrationStatus, 200)
    const left = (registered.registeredUntil!.getTime() - Date.now()) / 1000
    assert.isAbove(left, 50, 'the registrar granted 60 s to our Contact, not the 300 s we asked')
    assert.isAtMost(left, 60)
    const signalling = await app.container.make('sip.carriers')
    assert.equal(signalling.registrationCount, 1)
    const log = sipp.messages()
    assert.match(log, /Authorization: Digest [^\r\n]*username="trunk-e2e"/)
    assert.notInclude(log, 'reg-secret-e2e', 'the password itself never goes on the wire')

    // Withdrawn: the next sync stops the monitor, which sends REGISTER with Expires: 0.
    await CarrierState.query()
      .where('carrierName', 'reg_carrier')
      .update({ lifecycle: 'withdrawn' })
    await service.sync()
    assert.isNull(service.health('reg_carrier'))
    assert.equal(signalling.registrationCount, 0)
    // 0 only when sipp verified our digest, granted the binding and saw it removed.
    const outcome = await sipp.done
    assert.equal(outcome.code, 0, sipp.describe(outcome))
  }).timeout(40_000)
})
