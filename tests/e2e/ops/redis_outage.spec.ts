import { spawn, type ChildProcess } from 'node:child_process'
import { test } from '@japa/runner'
import { freePort, isBound } from '#tests/support/sip_peers'
import { deskPhone, expectScenario, serverWithDeskPhone } from '#tests/support/server_phones'
import { until } from '#tests/support/server_process'
import { redisConfigured } from '#tests/support/redis'
import { requireTool } from '#tests/support/sipp_runner'

/**
 * Redis out of reach, with the real server process (PostgreSQL + Redis, as in production) on a
 * Redis of its own that the test kills and starts again: a new call gets 503 with Retry-After at
 * once instead of hanging after its 100 Trying, a REGISTER and a busy-lamp SUBSCRIBE too (they
 * got 500), an emergency call still connects (its digest alone decides), a call that was running
 * goes on and ends with its CDR closed, /readyz and the pages answer 503, and once Redis is back
 * calls connect again.
 */

const NODE_ID = 'redis-outage-node'

async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' }
  )
  await until(`redis-server on ${port}`, 10_000, async () => isBound('tcp', port))
  return child
}

async function stopRedis(redis: ChildProcess) {
  if (redis.exitCode !== null || redis.signalCode !== null) return
  const exited = new Promise((resolve) => redis.once('exit', resolve))
  redis.kill('SIGKILL')
  await exited
}

test.group('Redis out of reach', () => {
  test('calls get 503 at once, 112 connects, a running call ends cleanly, /readyz and pages say 503; calls connect again when Redis is back', async ({
    assert,
    cleanup,
  }) => {
    requireTool('redis-server', 'redis-server')
    const redisPort = await freePort('tcp')
    let redis = await startRedis(redisPort)
    cleanup(() => stopRedis(redis))
    // Three calls reach its carrier: the one running across the outage, 112 during it, one after.
    const { server, carrier, phone, httpPort, call, firstAnswered, allClosed } =
      await serverWithDeskPhone({
        nodeId: NODE_ID,
        carrierCalls: 3,
        cleanup,
        env: {
          REDIS_HOST: '127.0.0.1',
          REDIS_PORT: String(redisPort),
          REDIS_PREFIX: 'redis-outage:',
          // Production keeps the sessions in Redis (the tests' .env.test has them in memory).
          SESSION_DRIVER: 'redis',
        },
      })

    // A call answered while Redis runs, still talking when Redis goes away.
    const running = await call('phone_call_out.xml', '+4930555000', 5_000)
    const answered = await firstAnswered()

    await stopRedis(redis)
    await answered.refresh()
    assert.isNull(answered.endedAt, 'the first call is running when Redis goes away')

    // A new call: 503 with Retry-After (phone_call_unavailable.xml exits 0 only then), where it
    // used to get its 100 Trying and then nothing until the phone gave up.
    const refused = await call('phone_call_unavailable.xml', '+4930555001')
    await expectScenario(refused, 'the call during the outage', assert)
    assert.match(
      refused.messages(),
      /SIP\/2\.0 503 [^\r\n]*\r?\n(?:[^\r\n]+\r?\n)*Retry-After: \d+/
    )

    // A REGISTER: 503 with Retry-After too (it was a 500: the phone would not know to retry).
    const register = await deskPhone({
      ...phone,
      scenario: 'uac_register_unavailable.xml',
      timeoutSeconds: 15,
    })
    cleanup(() => register.stop())
    await expectScenario(register, 'the REGISTER during the outage', assert)
    // A busy-lamp SUBSCRIBE likewise (it was a 500).
    const subscribe = await deskPhone({
      ...phone,
      scenario: 'phone_subscribe_unavailable.xml',
      keys: { callee: '20' },
      timeoutSeconds: 15,
    })
    cleanup(() => subscribe.stop())
    await expectScenario(subscribe, 'the SUBSCRIBE during the outage', assert)

    // 112 still connects: no lock is known and no replay is checked, the digest decides.
    const emergency = await call('phone_call_out.xml', '112')
    await expectScenario(emergency, 'the emergency call during the outage', assert)

    const ready = await fetch(`http://127.0.0.1:${httpPort}/readyz`)
    assert.equal(ready.status, 503)
    assert.equal(((await ready.json()) as { checks: { redis: string } }).checks.redis, 'failed')
    const page = await fetch(`http://127.0.0.1:${httpPort}/login`, {
      headers: { 'accept': 'text/html', 'accept-language': 'de' },
    })
    assert.equal(page.status, 503)
    assert.equal(page.headers.get('retry-after'), '30')
    assert.include(await page.text(), 'Der Dienst ist gerade nicht erreichbar')

    // The running call ends by its phone's BYE, its CDR closed as any other.
    await expectScenario(running, 'the call running across the outage', assert)

    // Redis is back (empty: it keeps nothing on disk here): calls connect again.
    redis = await startRedis(redisPort)
    await until('/readyz after Redis is back', 20_000, async () =>
      (await fetch(`http://127.0.0.1:${httpPort}/readyz`)).ok ? true : null
    )
    const after = await call('phone_call_out.xml', '+4930555002')
    await expectScenario(after, 'the call after the outage', assert)
    await expectScenario(carrier, 'the carrier', assert)

    const records = await allClosed()
    const byCallee = new Map(records.map((record) => [record.calleeNumber, record]))
    assert.equal(byCallee.get('+4930555000')?.disconnectCause, 'answered_normal')
    assert.isNotNull(byCallee.get('+4930555000')?.answeredAt)
    assert.isTrue(byCallee.get('112')?.emergency)
    assert.isNotNull(byCallee.get('112')?.answeredAt)
    assert.isNotNull(byCallee.get('+4930555002')?.answeredAt)
    // The refused call never got past the digest check: no CDR, or a closed one.
    const refusedRecord = byCallee.get('+4930555001')
    if (refusedRecord) assert.equal(refusedRecord.sipStatus, 503)
    // BullMQ's connection errors are logged (once a minute), not written raw to stderr.
    assert.notInclude(server.stderr(), 'ECONNREFUSED')

    server.child.kill('SIGTERM')
    await server.exited
  })
    .skip(!redisConfigured, 'Redis only (REDIS_HOST): the production shape with PostgreSQL')
    .timeout(120_000)
})
