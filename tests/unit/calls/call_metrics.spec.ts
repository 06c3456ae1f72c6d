import { test } from '@japa/runner'
import metrics from '#core/services/metrics'
import { watchCarrierHealth, watchLiveCalls } from '#calls/metrics/call_metrics'
import type { CarrierHealth } from '#calls/carriers/types'

const health = (
  options: CarrierHealth['options'],
  registration: CarrierHealth['registration'],
  failures = 0
): CarrierHealth => ({
  options,
  registration,
  checkedAt: new Date(),
  consecutiveFailures: failures,
})

async function value(name: string, labels: Record<string, string>) {
  const metric = await metrics.getSingleMetric(name)!.get()
  const sample = metric.values.find((entry) =>
    Object.entries(labels).every(([key, wanted]) => entry.labels[key] === wanted)
  )
  return sample?.value
}

test.group('Call metrics: gauges read when scraped', (group) => {
  group.each.teardown(() => {
    watchCarrierHealth(undefined)
    watchLiveCalls(undefined)
  })

  test('carrier health and registration: 1 for the current state, read at each scrape', async ({
    assert,
  }) => {
    let carriers: Record<string, CarrierHealth> = {
      sipgate: health('up', 'registered'),
      twilio: health('down', 'not_applicable', 3),
    }
    watchCarrierHealth(() => carriers)
    assert.equal(await value('fluffycall_carrier_health', { carrier: 'sipgate', state: 'up' }), 1)
    assert.equal(await value('fluffycall_carrier_health', { carrier: 'sipgate', state: 'down' }), 0)
    assert.equal(await value('fluffycall_carrier_health', { carrier: 'twilio', state: 'down' }), 1)
    assert.equal(
      await value('fluffycall_carrier_registration', { carrier: 'sipgate', state: 'registered' }),
      1
    )
    assert.equal(await value('fluffycall_carrier_options_failures', { carrier: 'twilio' }), 3)

    carriers = { sipgate: health('down', 'failed', 2) }
    assert.equal(await value('fluffycall_carrier_health', { carrier: 'sipgate', state: 'down' }), 1)
    assert.equal(
      await value('fluffycall_carrier_registration', { carrier: 'sipgate', state: 'failed' }),
      1
    )
    assert.isUndefined(
      await value('fluffycall_carrier_health', { carrier: 'twilio', state: 'down' }),
      'a carrier no longer watched disappears'
    )
  })

  test('calls active by direction from the live list', async ({ assert }) => {
    const calls = [
      { record: { direction: 'outbound' as const } },
      { record: { direction: 'outbound' as const } },
      { record: { direction: 'inbound' as const } },
    ]
    watchLiveCalls(() => calls)
    assert.equal(await value('fluffycall_calls_active', { direction: 'outbound' }), 2)
    assert.equal(await value('fluffycall_calls_active', { direction: 'inbound' }), 1)
    assert.equal(await value('fluffycall_calls_active', { direction: 'echo_test' }), 0)
    calls.splice(0)
    assert.equal(await value('fluffycall_calls_active', { direction: 'outbound' }), 0)
  })
})
