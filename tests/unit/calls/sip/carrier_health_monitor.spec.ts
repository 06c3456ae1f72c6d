import { test } from '@japa/runner'
import FakeClock from '#sip/clock/fake_clock'
import CarrierHealthMonitor from '#calls/carriers/carrier_health_monitor'
import type {
  CarrierSignalling,
  RegistrationAuth,
  RegistrationUpdate,
  SignallingTarget,
  TrunkProfile,
} from '#calls/carriers/types'
import { CarrierSignallingError } from '#calls/carriers/sip_carrier_signalling'
import { euCarrierProfile } from '#tests/support/carriers'

/** Signalling whose answers the test decides per host: a status, or silence (timeout). */
class ScriptedSignalling implements CarrierSignalling {
  answers = new Map<string, number | 'silence'>()
  options: string[] = []
  registered: RegistrationAuth[] = []
  unregistered: SignallingTarget[] = []
  #onUpdate: ((update: RegistrationUpdate) => void) | undefined

  async sendOptions(target: SignallingTarget) {
    this.options.push(target.host)
    const answer = this.answers.get(target.host) ?? 'silence'
    if (answer === 'silence') throw new CarrierSignallingError('timeout', 'no answer')
    return { status: answer }
  }

  async register(
    _target: SignallingTarget,
    auth: RegistrationAuth,
    onUpdate?: (update: RegistrationUpdate) => void
  ) {
    this.registered.push(auth)
    this.#onUpdate = onUpdate
    const first = { state: 'registered' as const, status: 200, expiresSeconds: 120 }
    onUpdate?.(first)
    return first
  }

  async unregister(target: SignallingTarget) {
    this.unregistered.push(target)
  }

  /** A later refresh's outcome, as the registration client would report it. */
  update(update: RegistrationUpdate) {
    this.#onUpdate?.(update)
  }
}

const flush = () => new Promise((resolve) => setImmediate(resolve))

async function tick(clock: FakeClock, ms: number) {
  clock.advance(ms)
  await flush()
}

function monitorFor(profile: TrunkProfile) {
  const clock = new FakeClock()
  const signalling = new ScriptedSignalling()
  const monitor = new CarrierHealthMonitor({
    profile,
    signalling,
    clock,
    now: () => new Date(1_700_000_000_000 + clock.now()),
  })
  return { clock, signalling, monitor }
}

const ipTrunk = (hosts: string[]) =>
  euCarrierProfile({
    hosts,
    auth: { method: 'ip', sourceAddresses: ['192.0.2.1'] },
    healthCheck: { enabled: true, intervalSeconds: 10, timeoutMs: 1000, failuresBeforeDown: 3 },
  })

test.group('CarrierHealthMonitor', () => {
  test('up on any answer but 503; down only after failuresBeforeDown dead rounds; up again on one answer', async ({
    assert,
  }) => {
    const { clock, signalling, monitor } = monitorFor(ipTrunk(['a.example']))
    assert.equal(monitor.health().options, 'unknown')
    signalling.answers.set('a.example', 404)
    monitor.start()
    await flush()
    assert.equal(monitor.health().options, 'up', 'a 404 comes from a live server')
    assert.equal(monitor.health().lastStatus, 404)
    assert.equal(monitor.health().checkedAt?.getTime(), 1_700_000_000_000)

    signalling.answers.set('a.example', 503)
    await tick(clock, 10_000)
    await tick(clock, 10_000)
    assert.equal(monitor.health().options, 'up', 'two failed rounds of three: still up')
    assert.equal(monitor.health().consecutiveFailures, 2)
    assert.equal(monitor.health().lastStatus, 503)

    signalling.answers.set('a.example', 'silence')
    await tick(clock, 10_000)
    assert.equal(monitor.health().options, 'down')
    assert.equal(monitor.health().consecutiveFailures, 3)
    assert.isNull(monitor.health().lastStatus)
    assert.lengthOf(signalling.options, 4, 'one OPTIONS per interval')

    signalling.answers.set('a.example', 200)
    await tick(clock, 10_000)
    assert.equal(monitor.health().options, 'up')
    assert.equal(monitor.health().consecutiveFailures, 0)

    await monitor.stop()
    await tick(clock, 60_000)
    assert.lengthOf(signalling.options, 5, 'no checks after stop')
    assert.equal(clock.pending, 0)
  })

  test('a carrier with two hosts is up while either answers', async ({ assert }) => {
    const { clock, signalling, monitor } = monitorFor(ipTrunk(['a.example', 'b.example']))
    signalling.answers.set('b.example', 200)
    monitor.start()
    await flush()
    assert.deepEqual(signalling.options.sort(), ['a.example', 'b.example'])
    assert.equal(monitor.health().options, 'up')
    signalling.answers.delete('b.example')
    for (let round = 0; round < 3; round++) await tick(clock, 10_000)
    assert.equal(monitor.health().options, 'down')
    await monitor.stop()
  })

  test('registration: registered with its expiry, failed on a later 403, unregistered on stop', async ({
    assert,
  }) => {
    const profile = euCarrierProfile({
      healthCheck: { enabled: false, intervalSeconds: 10, timeoutMs: 1000, failuresBeforeDown: 3 },
    })
    const { clock, signalling, monitor } = monitorFor(profile)
    assert.equal(monitor.health().registration, 'unknown')
    monitor.start()
    await flush()
    assert.lengthOf(signalling.options, 0, 'checks switched off')
    assert.equal(signalling.registered[0].username, 'trunk-user')
    const health = monitor.health()
    assert.equal(health.registration, 'registered')
    assert.equal(health.registrationStatus, 200)
    assert.equal(health.registeredUntil?.getTime(), 1_700_000_000_000 + 120_000)

    signalling.update({ state: 'failed', status: 403, expiresSeconds: 0 })
    assert.equal(monitor.health().registration, 'failed')
    assert.equal(monitor.health().registrationStatus, 403)
    assert.isNull(monitor.health().registeredUntil)

    await monitor.stop()
    assert.deepEqual(signalling.unregistered, [
      { host: 'sip.eu-carrier.example', port: 5061, transport: 'tls' },
    ])
    await tick(clock, 60_000)
    assert.equal(clock.pending, 0)
  })
})
