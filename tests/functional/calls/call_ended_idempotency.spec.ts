import { randomUUID } from 'node:crypto'
import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import app from '@adonisjs/core/services/app'
import emitter from '@adonisjs/core/services/emitter'
import testUtils from '@adonisjs/core/services/test_utils'
import type { Counter } from 'prom-client'
import type Company from '#accounts/models/company'
import type User from '#accounts/models/user'
import type { CallAttempt } from '#calls/gates/call_gate'
import CallRecord from '#calls/models/call_record'
import AnalyseCall from '#fraud/listeners/analyse_call'
import FraudCompanyPolicy from '#fraud/models/fraud_company_policy'
import CallLeases from '#fraud/services/call_leases'
import RedisCallLeases from '#fraud/services/redis_call_leases'
import fraudConfig from '#config/fraud'
import metrics from '#core/services/metrics'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { resetCounters } from '#tests/support/counters'
import '#calls/events'

/**
 * Every listener of call:ended (start/events.ts) counts a CDR once, however often call:ended comes
 * for it (a retry, a second node closing the same call): the concurrent-call lease drops by one,
 * the fraud analysis runs once, the ended-calls metric counts one. Rating: rating.spec.ts.
 */

function attempt(company: Company, user: User, destination: string): CallAttempt {
  return {
    company,
    user,
    destination,
    carrierNames: ['first'],
    callUuid: randomUUID(),
    deviceId: 4343,
    sourceAddress: '127.0.0.2',
    kind: 'direct',
    pricePerMinuteCents: null,
  }
}

async function record(call: Pick<CallAttempt, 'callUuid' | 'destination'>, company: Company) {
  return CallRecord.create({
    uuid: call.callUuid,
    companyId: company.id,
    userId: null,
    direction: 'outbound',
    emergency: false,
    callerNumber: null,
    calleeNumber: call.destination,
    callerWithheld: false,
    region: 'eu',
    nodeId: 'idempotency-test',
    carrierName: `idem-${call.callUuid.slice(0, 30)}`,
    startedAt: DateTime.utc(),
    endedAt: DateTime.utc(),
    disconnectCause: 'answered_normal',
  } as Partial<CallRecord>)
}

const leaseOf = async (subject: string) =>
  Number(await (await app.container.make('fraud.leases')).held(subject))

/** The same leases as another node sees them: its own store on the shared table or Redis. */
async function otherNodesLeases() {
  const leases = await app.container.make('fraud.leases')
  if (leases.kind === 'table') return new CallLeases(await app.container.make('fraud.limiter'))
  const redis = (await app.container.make('redis')).connection('main').ioConnection
  return new RedisCallLeases(redis, { leaseSeconds: fraudConfig.leaseSeconds })
}

test.group('call:ended listeners are idempotent per CDR', (group) => {
  group.each.setup(async () => {
    await resetCounters()
    ;(await app.container.make('fraud.policies')).forgetAll()
    return testUtils.db().withGlobalTransaction()
  })
  group.each.teardown(async () => {
    await (await app.container.make('fraud.leases')).written()
    await (await app.container.make('jobs.queue')).drain()
  })

  test('call:ended on two nodes, at once and again, releases the lease once', async ({
    assert,
  }) => {
    const company = await makeCompany('active')
    const user = await makeUser('member', company)
    await FraudCompanyPolicy.create({
      companyId: company.id,
      allowedCountries: fraudConfig.allowedCountries,
      enabledRiskClasses: [],
      outboundSuspension: 'none',
      limits: { device: { concurrent: 2 } },
    })
    const gates = await app.container.make('calls.gates')
    const calls = [1, 2].map((n) => attempt(company, user, `+49304000${n}0`))
    for (const call of calls) assert.isTrue((await gates.check(call)).allow)
    assert.equal(await leaseOf('device:4343'), 2)

    const ended = await record(calls[0], company)
    // Another node closes the call first (its lease row or key), then this node (its memory) ...
    const otherNode = await otherNodesLeases()
    await otherNode.release(calls[0].callUuid)
    // ... then twice at once (a retry racing the first), then once more
    await Promise.all([
      emitter.emit('call:ended', { record: ended }),
      emitter.emit('call:ended', { record: ended }),
    ])
    await emitter.emit('call:ended', { record: ended })

    assert.equal(await leaseOf('device:4343'), 1)
    assert.equal(await leaseOf(`company:${company.id}`), 1)
    // The second call still holds its place: a third call is allowed, a fourth is not
    assert.isTrue((await gates.check(attempt(company, user, '+4930400030'))).allow)
    assert.include(await gates.check(attempt(company, user, '+4930400040')), {
      allow: false,
      reason: 'concurrent_limit',
    })
  })

  test('a repeated call:ended analyses the call once', async ({ assert, cleanup }) => {
    const company = await makeCompany('active')
    const detector = await app.container.make('fraud.detector')
    const analysed: Array<{ companyId: number; endedSince: number }> = []
    const original = { analyseCall: detector.analyseCall, analyseCompany: detector.analyseCompany }
    detector.analyseCall = async () => assert.fail('no call is analysed on its own')
    detector.analyseCompany = async (companyId, endedSince) => {
      analysed.push({ companyId, endedSince })
      return []
    }
    cleanup(() => void Object.assign(detector, original))
    const ended = await record({ callUuid: randomUUID(), destination: '+4930123' }, company)
    // The listener's clock stands still: the repeats fall into the call's window, not the next
    const at = ended.endedAt!.toMillis() + 200
    app.container.swap(AnalyseCall, () => new AnalyseCall(() => at))
    cleanup(() => app.container.restore(AnalyseCall))
    await Promise.all([
      emitter.emit('call:ended', { record: ended }),
      emitter.emit('call:ended', { record: ended }),
    ])
    await emitter.emit('call:ended', { record: ended })
    await (await app.container.make('jobs.queue')).drain()
    assert.deepEqual(
      analysed.map((entry) => entry.companyId),
      [company.id]
    )
    assert.isAtMost(analysed[0].endedSince, ended.endedAt!.toMillis())
  })

  test('a repeated call:ended counts the ended call once in the metrics', async ({ assert }) => {
    const company = await makeCompany('active')
    const ended = await record({ callUuid: randomUUID(), destination: '+4930123' }, company)
    const counter = metrics.getSingleMetric('fluffycall_calls_ended_total') as Counter
    const countOf = async () =>
      (await counter.get()).values
        .filter((value) => value.labels.carrier === ended.carrierName)
        .reduce((sum, value) => sum + value.value, 0)

    await emitter.emit('call:ended', { record: ended })
    await emitter.emit('call:ended', { record: ended })
    assert.equal(await countOf(), 1)
  })
})
