import { test } from '@japa/runner'

test.group('Health endpoints', () => {
  test('/healthz answers 200 while the process is alive', async ({ client }) => {
    const response = await client.get('/healthz')
    response.assertStatus(200)
    response.assertBody({ status: 'ok' })
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
