import { test } from '@japa/runner'
import fraudConfig from '#config/fraud'
import FraudRiskPrefix from '#fraud/models/fraud_risk_prefix'
import FraudPolicies from '#fraud/services/fraud_policies'

test.group('FraudPolicies: the risk prefix table', () => {
  test('a reload behind a stale table that fails keeps the stale table, rejects nothing unhandled and is tried again', async ({
    assert,
    cleanup,
  }) => {
    // The database's answers, one per reload: a table, then a failure, then a new table
    const answers: Array<() => Promise<Array<{ prefix: string; riskClass: string }>>> = [
      async () => [{ prefix: '+881', riskClass: 'satellite' }],
      async () => {
        throw new Error('the database is away')
      },
      async () => [{ prefix: '+882', riskClass: 'satellite' }],
    ]
    const original = FraudRiskPrefix.query
    let reloads = 0
    FraudRiskPrefix.query = (() => ({
      select: () => answers[reloads++]!(),
    })) as unknown as typeof FraudRiskPrefix.query
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown) => unhandled.push(reason)
    process.on('unhandledRejection', onUnhandled)
    cleanup(() => {
      FraudRiskPrefix.query = original
      process.off('unhandledRejection', onUnhandled)
    })

    let now = 1_000_000
    const policies = new FraudPolicies(fraudConfig, () => now)
    const first = await policies.numberRisk()
    assert.equal(reloads, 1)
    // Stale: the old table answers at once while the reload runs, and the reload fails
    now += fraudConfig.policyCacheSeconds * 1000
    assert.strictEqual(await policies.numberRisk(), first)
    assert.equal(reloads, 2)
    await new Promise((resolve) => setImmediate(resolve))
    await new Promise((resolve) => setTimeout(resolve, 0))
    assert.deepEqual(unhandled, [])
    // The next call tries again and the new table takes over
    assert.strictEqual(await policies.numberRisk(), first)
    assert.equal(reloads, 3)
    await new Promise((resolve) => setImmediate(resolve))
    const fresh = await policies.numberRisk()
    assert.notStrictEqual(fresh, first)
    assert.equal(reloads, 3)
  })
})
