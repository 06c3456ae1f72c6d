import { readFile } from 'node:fs/promises'
import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import SipDeviceService from '#calls/services/sip_device_service'
import { configuredRealm } from '#calls/signalling/registrar_settings'
import CallRecord from '#calls/models/call_record'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { freePort, startSipp } from '#tests/support/sip_peers'
import { startServer, until } from '#tests/support/server_process'
import { routeAllCallsTo } from '#tests/support/calls'
import { mediaEngineChoice } from '#config/media'

/**
 * The real server process (bin/server.ts) scraped at /metrics before and after one call from a
 * sipp phone through the server to a sipp carrier (the `local` carrier of config/carriers.ts):
 * the call counters move by exactly one call, the gauge of running calls returns to 0, every
 * series carries the node's NODE_ID, and no phone number reaches the text. Then the log's start
 * line, and on SIGTERM during a second call the stop line counting the one call it ended.
 */

const TOKEN = 'metrics-test-token-4f1c'

type Samples = Map<string, number>

/** `name{labels} value` lines of the Prometheus text format, keyed by name and sorted labels. */
function parseSamples(text: string): Samples {
  const samples: Samples = new Map()
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue
    const match = /^([a-zA-Z_:][\w:]*)(\{(.*)\})?\s+(\S+)$/.exec(line)
    if (!match) throw new Error(`not a sample line: ${line}`)
    const labels = [...(match[3] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)]
      .map(([, key, value]) => `${key}=${value}`)
      .sort()
      .join(',')
    samples.set(`${match[1]}{${labels}}`, Number(match[4]))
  }
  return samples
}

async function scrape(port: number, token: string | null = TOKEN) {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  })
  return {
    status: response.status,
    text: await response.text(),
    type: response.headers.get('content-type'),
  }
}

/** Sum of the samples of `name` whose labels include every `key=value` given. */
function sum(samples: Samples, name: string, labels: Record<string, string> = {}) {
  let total = 0
  for (const [key, value] of samples) {
    if (!key.startsWith(`${name}{`)) continue
    const inner = key.slice(name.length + 1, -1).split(',')
    if (Object.entries(labels).every(([label, wanted]) => inner.includes(`${label}=${wanted}`)))
      total += value
  }
  return total
}

test.group('Metrics: one call through sipp, scraped at /metrics', () => {
  test('the call counters move by exactly one call; token required; NODE_ID on every series', async ({
    assert,
    cleanup,
  }) => {
    const nodeId = 'ops-metrics-node'
    await routeAllCallsTo(['local'])
    const company = await makeCompany('active')
    const user = await makeUser('member', company)
    const { device, password } = await new SipDeviceService().create(user, 'Desk phone')

    const carrier = await startSipp({
      scenario: 'carrier_answer_echo.xml',
      transport: 'u1',
      timeoutSeconds: 60,
      traceMessages: true,
      extraArgs: ['-aa', '-rtp_echo'],
    })
    cleanup(() => carrier.stop())
    const ports = { sip: await freePort('udp'), http: await freePort('tcp') }
    const server = await startServer(
      {
        ...process.env,
        NODE_ENV: 'test',
        HOST: '127.0.0.1',
        PORT: String(ports.http),
        SIP_TRANSPORTS: 'udp',
        SIP_UDP_PORT: String(ports.sip),
        LOCAL_CARRIER_PORT: String(carrier.port),
        NODE_ID: nodeId,
        METRICS_TOKEN: TOKEN,
        CALL_DRAIN_SECONDS: '1',
        NO_COLOR: '1',
      },
      ports.sip
    )
    cleanup(() => {
      server.child.kill('SIGKILL')
    })

    assert.equal((await scrape(ports.http, null)).status, 401, 'no token, no metrics')
    assert.equal((await scrape(ports.http, 'wrong-token-of-same-size')).status, 401)
    const first = await scrape(ports.http)
    assert.equal(first.status, 200)
    assert.match(first.type ?? '', /^text\/plain; version=0\.0\.4/)
    const before = parseSamples(first.text)

    // The desk phone registers first (REGISTER, 401, REGISTER with digest, 200)
    const registration = await startSipp({
      scenario: 'uac_register.xml',
      transport: 'u1',
      target: `127.0.0.1:${ports.sip}`,
      localIp: '127.0.0.2',
      timeoutSeconds: 20,
      keys: { domain: configuredRealm() },
      extraArgs: ['-s', device.sipUsername, '-au', device.sipUsername, '-ap', password],
    })
    cleanup(() => registration.stop())
    const registered = await registration.done
    assert.equal(registered.code, 0, registration.describe(registered))

    const callee = '+4930555199'
    const caller = await startSipp({
      scenario: 'phone_call_out.xml',
      transport: 'u1',
      target: `127.0.0.1:${ports.sip}`,
      localIp: '127.0.0.2',
      timeoutSeconds: 60,
      traceMessages: true,
      keys: { domain: configuredRealm(), callee },
      extraArgs: [
        '-auth_uri',
        `${callee}@127.0.0.1:${ports.sip}`,
        '-d',
        '500',
        '-s',
        device.sipUsername,
        '-au',
        device.sipUsername,
        '-ap',
        password,
      ],
    })
    cleanup(() => caller.stop())
    const outcome = await caller.done
    assert.equal(
      outcome.code,
      0,
      `${caller.describe(outcome)}\n${caller.messages().slice(-3000)}\n${server.stderr()}`
    )
    const record = await until('the closed CDR', 10_000, () =>
      CallRecord.query().where('node_id', nodeId).whereNotNull('ended_at').first()
    )
    assert.equal(record.disconnectCause, 'answered_normal')

    // The listeners run just after the CDR is written: wait until the ended counter has moved.
    let after: Samples = before
    await until('the ended call in /metrics', 5000, async () => {
      after = parseSamples((await scrape(ports.http)).text)
      return (
        sum(after, 'fluffycall_calls_ended_total') > sum(before, 'fluffycall_calls_ended_total')
      )
    })
    const moved = (name: string, labels: Record<string, string> = {}) =>
      sum(after, name, labels) - sum(before, name, labels)

    assert.equal(moved('fluffycall_call_attempts_total', { direction: 'outbound' }), 1)
    assert.equal(moved('fluffycall_call_attempts_total'), 1)
    assert.equal(
      moved('fluffycall_calls_answered_total', { direction: 'outbound', carrier: 'local' }),
      1
    )
    assert.equal(
      moved('fluffycall_calls_ended_total', {
        direction: 'outbound',
        carrier: 'local',
        cause: 'answered_normal',
      }),
      1
    )
    assert.equal(moved('fluffycall_calls_ended_total'), 1)
    assert.equal(moved('fluffycall_call_setup_seconds_count', { carrier: 'local' }), 1)
    assert.isAbove(moved('fluffycall_call_setup_seconds_sum', { carrier: 'local' }), 0)
    assert.equal(sum(after, 'fluffycall_calls_active'), 0)

    // packages/sip's counters: the registration and the call's messages, in and out
    const sip = (labels: Record<string, string>) => moved('fluffycall_sip_messages_total', labels)
    assert.equal(sip({ direction: 'in', kind: 'request', method: 'REGISTER' }), 2)
    assert.equal(moved('fluffycall_sip_registrations_total', { outcome: 'challenged' }), 1)
    assert.equal(moved('fluffycall_sip_registrations_total', { outcome: 'accepted' }), 1)
    assert.equal(moved('fluffycall_sip_registrations_total', { outcome: 'refused' }), 0)
    // The phone's INVITE, challenged, then with digest (UDP retransmissions may add some)
    assert.isAtLeast(sip({ direction: 'in', kind: 'request', method: 'INVITE' }), 2)
    assert.isAtLeast(sip({ direction: 'out', kind: 'request', method: 'INVITE' }), 1)
    assert.isAtLeast(
      sip({ direction: 'out', kind: 'response', method: 'INVITE', status_class: '4xx' }),
      1
    )
    assert.isAtLeast(
      sip({ direction: 'out', kind: 'response', method: 'INVITE', status_class: '2xx' }),
      1
    )
    assert.isAtLeast(
      sip({ direction: 'in', kind: 'response', method: 'INVITE', status_class: '2xx' }),
      1
    )
    assert.isAtLeast(sip({ direction: 'in', kind: 'request', method: 'BYE' }), 1)
    assert.isAtLeast(sip({ direction: 'out', kind: 'request', method: 'BYE' }), 1)
    assert.equal(moved('fluffycall_sip_parse_failures_total'), 0)

    // packages/media's counters: the phone's audio relayed to the carrier and echoed back
    assert.isAbove(moved('fluffycall_media_packets_total', { outcome: 'received' }), 10)
    assert.isAbove(moved('fluffycall_media_packets_total', { outcome: 'sent' }), 10)
    assert.isAbove(moved('fluffycall_media_packets_expected_total'), 10)
    assert.isAtMost(
      moved('fluffycall_media_packets_lost_total'),
      moved('fluffycall_media_packets_expected_total') / 10,
      'loopback loses (almost) nothing'
    )
    assert.equal(moved('fluffycall_media_leg_jitter_ms_count'), 2, 'two RTP legs closed')
    assert.equal(sum(after, 'fluffycall_media_legs'), 0)
    // The server's media workers (MEDIA_WORKERS, as this process reads it), all alive, none restarted
    const workers = mediaEngineChoice.engine === 'builtin' ? mediaEngineChoice.workers : 0
    assert.equal(sum(after, 'fluffycall_media_workers', { state: 'configured' }), workers)
    assert.equal(sum(after, 'fluffycall_media_workers', { state: 'alive' }), workers)
    assert.equal(sum(after, 'fluffycall_media_worker_restarts_total'), 0)
    assert.equal(sum(after, 'fluffycall_media_bridges'), 0)
    assert.isAbove(
      moved('fluffycall_db_query_duration_seconds_count', { method: 'insert' }),
      0,
      'the CDR insert was timed'
    )
    assert.isAbove(moved('fluffycall_http_requests_total', { route: 'metrics', status: '200' }), 0)
    assert.equal(
      sum(after, 'fluffycall_http_requests_total', { route: 'metrics', status: '401' }),
      2
    )

    // Process figures, each series labelled with this node.
    for (const name of [
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
      'nodejs_gc_duration_seconds_count',
    ]) {
      assert.isTrue(
        [...after.keys()].some((key) => key.startsWith(`${name}{`)),
        `${name} is exported`
      )
    }
    const unlabelled = [...after.keys()].filter((key) => !key.includes(`node=${nodeId}`))
    assert.deepEqual(unlabelled, [], 'every series carries node=NODE_ID')

    // Nothing personal in any label: neither the numbers nor the SIP username.
    const { text } = await scrape(ports.http)
    for (const secret of [callee, callee.slice(1), device.sipUsername, '127.0.0.2']) {
      assert.notInclude(text, secret)
    }

    // A second call is running when SIGTERM comes: the stop line counts it (ended at the 1 s deadline).
    const second = await startSipp({
      scenario: 'phone_call_until_bye.xml',
      transport: 'u1',
      target: `127.0.0.1:${ports.sip}`,
      localIp: '127.0.0.2',
      timeoutSeconds: 60,
      keys: { domain: configuredRealm(), callee },
      extraArgs: [
        '-auth_uri',
        `${callee}@127.0.0.1:${ports.sip}`,
        '-s',
        device.sipUsername,
        '-au',
        device.sipUsername,
        '-ap',
        password,
      ],
    })
    cleanup(() => second.stop())
    await until('the second call answered', 20_000, async () =>
      sum(parseSamples((await scrape(ports.http)).text), 'fluffycall_calls_active') === 1
        ? true
        : null
    )
    server.child.kill('SIGTERM')
    assert.deepEqual(await server.exited, { code: 0, signal: null }, server.stderr())
    const lines = (await readFile(app.tmpPath('logs', `test-${server.child.pid}.log`), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line))
    const started = lines.find((line) => line.msg === 'FluffyCall started')
    assert.include(started, {
      node: nodeId,
      environment: 'test',
      database: process.env.DB_CONNECTION ?? 'sqlite',
    })
    const stopped = lines.at(-1)
    assert.include(stopped, {
      signal: 'SIGTERM',
      calls_ended: 1,
      calls_ended_at_deadline: 1,
      msg: 'FluffyCall stopped: 1 call ended',
    })
  }).timeout(120_000)
})
