import { test } from '@japa/runner'
import paymentsConfig from '#config/payments'
import {
  TEST_CREDITOR_ALERT,
  TEST_CREDITOR_ID,
  usesTestCreditor,
  warnAboutTestCreditor,
} from '#billing/payments/test_creditor'

function recorder() {
  const said: string[] = []
  return {
    said,
    logger: { warn: (_details: object, message: string) => said.push(`warn: ${message}`) },
    alerts: {
      raise: (key: string, severity: string, facts: object) =>
        said.push(`raise ${key} ${severity} ${JSON.stringify(facts)}`),
      clear: (key: string) => said.push(`clear ${key}`),
    },
  }
}

test.group('Payments: the Bundesbank test creditor ID at a production start', () => {
  test('SEPA_CREDITOR_ID left empty falls back to the test creditor ID, which warns and raises a critical alert', async ({
    assert,
  }) => {
    // The test environment leaves SEPA_* empty, as a forgetful production start would
    assert.equal(paymentsConfig.creditor.id, TEST_CREDITOR_ID)
    assert.isTrue(usesTestCreditor(paymentsConfig))
    const deps = recorder()
    assert.isTrue(await warnAboutTestCreditor(paymentsConfig, deps))
    assert.lengthOf(deps.said, 2)
    assert.match(deps.said[0], /^warn: SEPA_CREDITOR_ID is empty: the Bundesbank test creditor ID/)
    assert.equal(
      deps.said[1],
      `raise ${TEST_CREDITOR_ALERT} critical {"creditorId":"DE98ZZZ09999999999"}`
    )
  })

  test('a real creditor ID says nothing and clears the alert', async ({ assert }) => {
    const deps = recorder()
    const configured = {
      ...paymentsConfig,
      creditor: { ...paymentsConfig.creditor, id: 'DE02ZZZ01234567890' },
    }
    assert.isFalse(await warnAboutTestCreditor(configured, deps))
    assert.deepEqual(deps.said, [`clear ${TEST_CREDITOR_ALERT}`])
  })
})
