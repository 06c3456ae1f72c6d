import { test } from '@japa/runner'

test.group('Health endpoints', () => {
  test('/healthz answers 200 while the process is alive', async ({ client }) => {
    const response = await client.get('/healthz')
    response.assertStatus(200)
    response.assertBody({ status: 'ok' })
  })

  test('the probes make no session and set no cookie (answered before the session middleware)', async ({
    client,
    assert,
  }) => {
    for (const path of ['/healthz', '/readyz']) {
      const response = await client.get(path)
      response.assertStatus(200)
      assert.isUndefined(response.header('set-cookie'), path)
    }
    // A page does get its session cookie, so the check above can tell the difference.
    const page = await client.get('/login')
    assert.isDefined(page.header('set-cookie'))
  })

  test('/readyz answers 200 with the database reachable (and Redis, when configured)', async ({
    client,
  }) => {
    const response = await client.get('/readyz')
    response.assertStatus(200)
    response.assertBodyContains({
      status: 'ready',
      checks: { database: 'ok', redis: process.env.REDIS_HOST ? 'ok' : 'not_configured' },
    })
  })
})
