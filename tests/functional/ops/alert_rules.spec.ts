import { readFile } from 'node:fs/promises'
import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import app from '@adonisjs/core/services/app'
import testUtils from '@adonisjs/core/services/test_utils'
import Monitoring from '#core/monitoring/monitoring'
import MonitorReading from '#core/monitoring/monitor_reading'
import type { AlertRule, CheckReading, MonitorCheck } from '#core/monitoring/types'
import type { AlertFacts, AlertSeverity } from '#core/alerts/types'
import alertRules from '#config/alert_rules'
import { makeUser } from '#tests/support/accounts'
import { enableTwoFactor } from '#tests/support/two_factor'
import { Redis } from 'ioredis'
import RedisCheck from '#core/monitoring/checks/redis_check'
import { freePort } from '#tests/support/sip_peers'

/**
 * The operations alert rules on an injected clock: thresholds with their hold times, a reading
 * not observed for two intervals (a stopped node, a check that throws) failing whatever its
 * value, a subject that is gone clearing. The alert channel is recorded here; the sipp carrier
 * proof (tests/e2e/ops/carrier_down_alert.spec.ts) goes through the real one, mail and webhook.
 */

class RecordingChannel {
  raised: Array<{ key: string; severity: AlertSeverity; facts: AlertFacts; kind?: string }> = []
  cleared: string[] = []
  open = new Set<string>()

  async raise(key: string, severity: AlertSeverity, facts: AlertFacts, options: any = {}) {
    this.raised.push({ key, severity, facts, kind: options.kind })
    this.open.add(key)
    return {} as any
  }

  async clear(key: string) {
    if (!this.open.delete(key)) return false
    this.cleared.push(key)
    return true
  }
}

/** A check whose readings the test sets. */
class ScriptedCheck implements MonitorCheck {
  readings: CheckReading[] = []
  failure: Error | null = null
  constructor(
    readonly name: string,
    readonly intervalSeconds = 60,
    readonly scope?: 'node'
  ) {}
  async read() {
    if (this.failure) throw this.failure
    return this.readings
  }
}

const rule = (overrides: Partial<AlertRule>): AlertRule => ({
  name: 'test_rule',
  check: 'test_check',
  severity: 'warning',
  above: 90,
  unit: 'percent',
  forSeconds: 0,
  clearAfterSeconds: 0,
  ...overrides,
})

function setup(rules: AlertRule[], nodeId = 'node-a') {
  const clock = { now: DateTime.fromISO('2026-03-02T10:00:00Z', { zone: 'utc' }) }
  const channel = new RecordingChannel()
  const monitoring = new Monitoring(rules, channel, () => clock.now, undefined, nodeId)
  const advance = async (seconds: number) => {
    clock.now = clock.now.plus({ seconds })
    await monitoring.run()
  }
  return { clock, channel, monitoring, advance }
}

test.group('Alert rules: thresholds, hold times, stale checks', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('raises only after failing for forSeconds, clears only after passing for clearAfterSeconds', async ({
    assert,
  }) => {
    const { channel, monitoring, advance } = setup([
      rule({ name: 'disk_space', check: 'disk', forSeconds: 300, clearAfterSeconds: 600 }),
    ])
    const disk = new ScriptedCheck('disk', 60)
    monitoring.register(disk)
    disk.readings = [{ value: 95, facts: { freeGigabytes: 1.2 } }]

    await advance(0)
    await advance(240)
    assert.lengthOf(channel.raised, 0, 'failing for 4 minutes: still held back')
    await advance(60)
    assert.lengthOf(channel.raised, 1)
    assert.deepInclude(channel.raised[0], { key: 'ops_disk_space', severity: 'warning' })
    assert.equal(channel.raised[0].kind, 'ops_disk_space')
    assert.include(channel.raised[0].facts, { value: 95, above: 90, freeGigabytes: 1.2 })

    // A short dip and back: the failing time starts again, nothing is cleared
    disk.readings = [{ value: 50 }]
    await advance(60)
    disk.readings = [{ value: 96 }]
    await advance(60)
    assert.deepEqual(channel.cleared, [])

    disk.readings = [{ value: 50 }]
    await advance(60)
    await advance(540)
    assert.deepEqual(channel.cleared, [], 'passing for 9 minutes: still open')
    await advance(60)
    assert.deepEqual(channel.cleared, ['ops_disk_space'])
  })

  test('below thresholds, per subject; null values judge nothing; a check is read once per interval', async ({
    assert,
  }) => {
    const { channel, monitoring, advance } = setup([
      rule({ name: 'certificate_expiry', check: 'certs', above: undefined, below: 14 }),
    ])
    const certs = new ScriptedCheck('certs', 3600)
    let reads = 0
    const read = certs.read.bind(certs)
    certs.read = async () => {
      reads++
      return read()
    }
    monitoring.register(certs)
    certs.readings = [
      { subject: 'sip', value: 10 },
      { subject: 'https', value: 200 },
      { subject: 'none', value: null },
    ]
    await advance(0)
    assert.deepEqual(
      channel.raised.map((entry) => entry.key),
      ['ops_certificate_expiry:sip']
    )
    await advance(600)
    assert.equal(reads, 1, 'not due again within its hour')
    certs.readings = [{ subject: 'sip', value: 90 }]
    await advance(3000)
    assert.equal(reads, 2)
    assert.deepEqual(channel.cleared, ['ops_certificate_expiry:sip'])
    assert.deepEqual(
      (await MonitorReading.query().where('check_name', 'certs')).map((row) => row.subject),
      ['sip'],
      'subjects no longer reported are dropped'
    )
  })

  test('a reading not observed for two intervals fails whatever its value, and clears once observed again', async ({
    assert,
  }) => {
    const { clock, channel, monitoring, advance } = setup([
      rule({ name: 'carrier_down', check: 'carriers', above: 0, severity: 'critical' }),
    ])
    const carriers = new ScriptedCheck('carriers', 60)
    monitoring.register(carriers)
    const observed = clock.now.toJSDate()
    // The carrier monitor checks every 30 s; the check is read every 60 s: stale after 120 s
    carriers.readings = [
      { subject: 'eu_alpha', value: 0, observedAt: observed, intervalSeconds: 30 },
    ]
    await advance(0)
    await advance(120)
    assert.lengthOf(channel.raised, 0, 'two intervals old: not yet')
    await advance(60)
    assert.lengthOf(channel.raised, 1)
    assert.equal(channel.raised[0].key, 'ops_carrier_down:eu_alpha')
    assert.include(channel.raised[0].facts, { value: 0, notObservedSeconds: 180 })

    carriers.readings = [{ subject: 'eu_alpha', value: 0, observedAt: clock.now.toJSDate() }]
    await advance(60)
    assert.deepEqual(channel.cleared, ['ops_carrier_down:eu_alpha'])
  })

  test('another node that stops reading its own checks goes stale on this node; a check that throws fails at once', async ({
    assert,
  }) => {
    const rules = [
      rule({ name: 'event_loop_lag', check: 'loop', above: 200 }),
      rule({ name: 'job_queue_stuck', check: 'queue', above: 600 }),
    ]
    const nodeA = setup(rules, 'node-a')
    const nodeB = new Monitoring(rules, nodeA.channel, () => nodeA.clock.now, undefined, 'node-b')
    const loopA = new ScriptedCheck('loop', 60, 'node')
    const loopB = new ScriptedCheck('loop', 60, 'node')
    loopA.readings = [{ value: 5 }]
    loopB.readings = [{ value: 7 }]
    nodeA.monitoring.register(loopA)
    nodeB.register(loopB)
    const queue = new ScriptedCheck('queue', 60)
    queue.readings = [{ value: 30 }]
    nodeA.monitoring.register(queue)

    await nodeA.advance(0)
    await nodeB.run()
    assert.sameMembers(
      (await MonitorReading.query().where('check_name', 'loop')).map((row) => row.subject),
      ['node-a', 'node-b'],
      'each node keeps its own reading'
    )
    // node-b stops; node-a goes on reading its own
    await nodeA.advance(60)
    await nodeA.advance(60)
    assert.lengthOf(nodeA.channel.raised, 0)
    await nodeA.advance(61)
    assert.deepEqual(
      nodeA.channel.raised.map((entry) => entry.key),
      ['ops_event_loop_lag:node-b']
    )

    queue.failure = new Error('Redis connection refused')
    await nodeA.advance(60)
    const stuck = nodeA.channel.raised.find((entry) => entry.key === 'ops_job_queue_stuck')
    assert.exists(stuck, 'the check that throws fails')
    assert.equal(stuck!.facts.checkError, 'Redis connection refused')
    queue.failure = null
    await nodeA.advance(60)
    assert.include(nodeA.channel.cleared, 'ops_job_queue_stuck')
  })

  test('the configured rules: a registered check each, titles and figures in German and English', async ({
    assert,
  }) => {
    const monitoring = await app.container.make('monitoring')
    const checks = new Set(monitoring.checks.map((check) => check.name))
    const names = alertRules.map((entry) => entry.name)
    for (const expected of [
      'carrier_down',
      'call_failure_ratio',
      'call_setup_p95',
      'event_loop_lag',
      'job_queue_stuck',
      'retention_job_missed',
      'certificate_expiry',
      'disk_space',
      'backup_age',
      'tom_check_failed',
      'redis_unreachable',
    ])
      assert.include(names, expected)
    for (const entry of alertRules) {
      if (entry.check !== 'toms')
        assert.isTrue(checks.has(entry.check), `rule ${entry.name}: check ${entry.check}`)
      assert.isTrue(entry.above !== undefined || entry.below !== undefined)
    }
    for (const locale of ['de', 'en']) {
      const words = JSON.parse(
        await readFile(app.makePath(`resources/lang/${locale}/alerts.json`), 'utf8')
      )
      for (const entry of alertRules)
        assert.property(words.kinds, `ops_${entry.name}`, `${locale}: ops_${entry.name}`)
      for (const fact of ['subject', 'value', 'above', 'below', 'notObservedSeconds', 'checkError'])
        assert.property(words.facts, fact, `${locale}: ${fact}`)
    }
  })

  test('staff see the rules in words on /admin/alerts, with the subjects failing now', async ({
    assert,
    client,
  }) => {
    const now = DateTime.utc()
    await MonitorReading.create({
      checkName: 'disk_space',
      subject: 'node-full',
      value: 97,
      facts: {},
      observedAt: now,
      readAt: now,
      intervalSeconds: 300,
      error: null,
    })
    const support = await makeUser('support')
    await enableTwoFactor(support)
    const page = await client.get('/admin/alerts').loginAs(support)
    page.assertStatus(200)
    const html = page.text()
    assert.match(
      html,
      /data-rule="disk_space" data-failing="true">[\s\S]*?Belegter Speicherplatz[\s\S]*?über 90 %[\s\S]*?300 s[\s\S]*?fehlerhaft: node-full/
    )
    assert.match(html, /data-rule="carrier_down" data-failing="false">[\s\S]*?sobald es eintritt/)
    const english = await client
      .get('/admin/alerts')
      .header('Accept-Language', 'en')
      .loginAs(support)
    assert.include(english.text(), 'Disk space used')
  })

  test('a rule whose reading is old or whose check threw says so on /admin/alerts, with the time', async ({
    assert,
    client,
  }) => {
    const now = DateTime.utc()
    const lastSeen = DateTime.fromISO('2026-12-01T13:30:00Z')
    await MonitorReading.create({
      checkName: 'call_outcomes',
      subject: '',
      value: 0.01,
      facts: {},
      observedAt: lastSeen,
      readAt: lastSeen,
      intervalSeconds: 60,
      error: null,
    })
    await MonitorReading.create({
      checkName: 'backup',
      subject: '',
      value: null,
      facts: {},
      observedAt: now,
      readAt: now,
      intervalSeconds: 300,
      error: 'ENOENT: no backup directory',
    })
    const support = await makeUser('support')
    await enableTwoFactor(support)
    const html = (await client.get('/admin/alerts').loginAs(support)).text()
    // 14:30 in German time; a whole-system check has no subject to name
    assert.match(
      html,
      /data-rule="call_failure_ratio" data-failing="true">[\s\S]*?keine neue Messung seit 01\.12\.2026, 14:30</
    )
    assert.match(html, /data-rule="backup_age" data-failing="true">[\s\S]*?Prüfung fehlgeschlagen</)
    assert.notMatch(html, /fehlerhaft: –/)
    const english = await client
      .get('/admin/alerts')
      .header('Accept-Language', 'en')
      .loginAs(support)
    assert.include(english.text(), 'not observed since Dec 1, 2026, 2:30')
  })

  test('the admin dashboard shows the operations panel: open alerts, rules failing, TOM checks, media', async ({
    assert,
    client,
  }) => {
    const now = DateTime.utc()
    await MonitorReading.create({
      checkName: 'disk_space',
      subject: 'node-full',
      value: 97,
      facts: {},
      observedAt: now,
      readAt: now,
      intervalSeconds: 300,
      error: null,
    })
    const admin = await makeUser('support')
    await enableTwoFactor(admin)
    const page = await client.get('/admin').loginAs(admin)
    page.assertStatus(200)
    const html = page.text()
    assert.include(html, 'id="operations-panel"')
    assert.include(html, `data-figure="rulesFailing">1 von ${alertRules.length}<`)
    assert.match(html, /data-figure="mediaLegs">0 Verbindungen, 0 Brücken</)
    assert.match(html, /data-figure="tomChecks"><a href="\/transparency\/toms">0 bestanden, 7 rot</)
  })
})

test.group('Alert rules: Redis out of reach', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('the configured rule raises a node that cannot PING Redis after two readings, and clears it', async ({
    assert,
  }) => {
    const redisRule = alertRules.find((candidate) => candidate.name === 'redis_unreachable')!
    assert.exists(redisRule)
    assert.deepEqual(await new RedisCheck(null).read(), [], 'without Redis: nothing to judge')
    const { channel, monitoring, advance } = setup([redisRule], 'node-a')
    // A real client where nothing listens, bounded as config/redis.ts bounds the main connection
    const redis = new Redis({
      host: '127.0.0.1',
      port: await freePort('tcp'),
      lazyConnect: true,
      maxRetriesPerRequest: 1,
      commandTimeout: 3000,
      retryStrategy: () => 10,
    })
    redis.on('error', () => {})
    let reachable = false
    monitoring.register(new RedisCheck(async () => (reachable ? 'PONG' : redis.ping())))
    try {
      await advance(0)
      assert.lengthOf(channel.raised, 0, 'one failed PING: held back (a restart of Redis)')
      await advance(60)
      assert.lengthOf(channel.raised, 1)
      assert.deepInclude(channel.raised[0], {
        key: 'ops_redis_unreachable:node-a',
        severity: 'critical',
      })
      assert.match(String(channel.raised[0].facts.error), /max retries per request/)

      reachable = true
      await advance(60)
      await advance(60)
      assert.deepEqual(channel.cleared, [], 'passing for one minute: still open')
      await advance(60)
      assert.deepEqual(channel.cleared, ['ops_redis_unreachable:node-a'])
    } finally {
      redis.disconnect()
    }
  })
})
