import { test } from '@japa/runner'
import metrics from '#core/services/metrics'
import { watchMediaWorkers } from '#calls/metrics/signalling_metrics'
import type { MediaWorkerFigures } from '#media'

async function value(name: string, labels: Record<string, string>) {
  const metric = await metrics.getSingleMetric(name)!.get()
  const sample = metric.values.find((entry) =>
    Object.entries(labels).every(([key, wanted]) => entry.labels[key] === wanted)
  )
  return sample?.value
}

test.group('Media worker metrics: read when scraped', (group) => {
  group.each.teardown(() => watchMediaWorkers(undefined))

  test('configured and alive workers, restarts by reason, as the pool reports them', async ({
    assert,
  }) => {
    let figures: MediaWorkerFigures = {
      configured: 3,
      alive: 3,
      restarts: { crashed: 0, hung: 0 },
    }
    watchMediaWorkers(() => figures)
    assert.equal(await value('fluffycall_media_workers', { state: 'configured' }), 3)
    assert.equal(await value('fluffycall_media_workers', { state: 'alive' }), 3)
    assert.equal(await value('fluffycall_media_worker_restarts_total', { reason: 'hung' }), 0)

    figures = { configured: 3, alive: 2, restarts: { crashed: 2, hung: 1 } }
    assert.equal(await value('fluffycall_media_workers', { state: 'alive' }), 2)
    assert.equal(await value('fluffycall_media_worker_restarts_total', { reason: 'crashed' }), 2)
    assert.equal(await value('fluffycall_media_worker_restarts_total', { reason: 'hung' }), 1)
  })

  test('media in the main process: 0 workers configured and alive, no restarts', async ({
    assert,
  }) => {
    assert.equal(await value('fluffycall_media_workers', { state: 'configured' }), 0)
    assert.equal(await value('fluffycall_media_workers', { state: 'alive' }), 0)
    assert.equal(await value('fluffycall_media_worker_restarts_total', { reason: 'crashed' }), 0)
  })
})
