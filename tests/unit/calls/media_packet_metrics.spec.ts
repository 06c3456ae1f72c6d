import { test } from '@japa/runner'
import metrics from '#core/services/metrics'
import { watchMedia } from '#calls/metrics/signalling_metrics'
import { MediaEngineStats } from '#media'

async function packets(outcome: string) {
  const metric = await metrics.getSingleMetric('fluffycall_media_packets_total')!.get()
  return metric.values.find((entry) => entry.labels.outcome === outcome)?.value
}

test.group('Media packet metrics: read from the engine when scraped', (group) => {
  // The app's engine, when an earlier test resolved it, is watched again afterwards
  let before: ReturnType<typeof watchMedia>
  group.each.setup(() => {
    before = watchMedia(undefined)
  })
  group.each.teardown(() => {
    watchMedia(before)
  })

  test('sends the operating system refused are their own outcome, beside sent, received and rejected', async ({
    assert,
  }) => {
    const counters = new MediaEngineStats()
    const stats = { packetsReceived: 40, packetsSent: 30, packetsRejected: 2, sendFailures: 5 }
    const leg = { kind: 'rtp' as const, stats }
    counters.opened(leg)
    watchMedia(() => counters)
    assert.equal(await packets('send_failed'), 5)
    assert.equal(await packets('sent'), 30)
    assert.equal(await packets('received'), 40)
    assert.equal(await packets('rejected'), 2)

    // A closed leg's failures stay in the total; a later scrape reads the live legs again
    stats.sendFailures = 7
    counters.closed(leg)
    counters.opened({
      kind: 'webrtc',
      stats: { packetsReceived: 0, packetsSent: 0, packetsRejected: 0, sendFailures: 1 },
    })
    assert.equal(await packets('send_failed'), 8)
  })
})
