import { test } from '@japa/runner'
// Browser code (bundled by Vite) has no subpath import; it is plain TypeScript without DOM use here.
import { outcomeReason } from '../../../../resources/js/phone/outcome_reason.js'

test.group('Web phone: why a call failed', () => {
  test('busy, unreachable and refusals get a reason in words, the server’s known phrases first', ({
    assert,
  }) => {
    const cases: Array<
      [
        number | null,
        string | null,
        'busy' | 'unreachable' | 'refused' | 'failed' | 'connection-lost',
        string,
      ]
    > = [
      [486, 'Busy Here', 'busy', 'reason.busy'],
      [486, 'Do not disturb', 'busy', 'reason.do_not_disturb'],
      [486, 'Your own line', 'busy', 'reason.own_line'],
      [404, 'No such extension', 'unreachable', 'reason.no_extension'],
      [480, 'Temporarily Unavailable', 'unreachable', 'reason.no_answer'],
      [404, 'No route to this number', 'unreachable', 'reason.not_found'],
      [503, 'No carrier available', 'unreachable', 'reason.no_carrier'],
      [503, 'Shutting down', 'unreachable', 'reason.unavailable'],
      [
        403,
        'No EU carrier serves this number (EU-only data residency)',
        'refused',
        'reason.eu_only',
      ],
      [403, 'No carrier you accepted serves this number', 'refused', 'reason.objected'],
      [403, 'Account not active', 'refused', 'reason.account_inactive'],
      [403, 'User disabled', 'refused', 'reason.user_disabled'],
      [484, 'Invalid number', 'refused', 'reason.invalid_number'],
      [403, 'Company suspended', 'refused', 'reason.forbidden'],
      [488, 'Not Acceptable Here', 'refused', 'reason.codec'],
      [500, 'Server Internal Error', 'refused', 'reason.other'],
      [null, null, 'connection-lost', 'reason.connection_lost'],
      [null, null, 'failed', 'reason.other'],
    ]
    for (const [status, phrase, outcome, key] of cases) {
      const { reason, emergency } = outcomeReason({
        outcome,
        status,
        phrase,
        dialled: '+493012345678',
      })
      assert.equal(reason.key, key, `${status} ${phrase}`)
      assert.isNull(emergency)
    }
    const refused = outcomeReason({
      outcome: 'refused',
      status: 403,
      phrase: 'Company suspended',
      dialled: null,
    })
    assert.deepEqual(refused.reason.values, { status: '403', reason: 'Company suspended' })
  })

  test('the fraud gate’s refusals are told in words, with how to ask for an unlock', ({
    assert,
  }) => {
    const cases: Array<[string, string]> = [
      ['Outbound calls suspended', 'reason.fraud_suspended'],
      ['Destination blocked: premium_rate', 'reason.fraud_blocked_number'],
      ['Destination blocked: high_risk', 'reason.fraud_blocked_number'],
      ['Destination country not allowed', 'reason.fraud_country'],
      ['Call limit reached', 'reason.fraud_limit'],
      ['Call limit reached for this number', 'reason.fraud_limit'],
      ['Too many concurrent calls', 'reason.fraud_concurrent'],
      ['Destination too expensive', 'reason.fraud_price'],
      ['Spend limit reached', 'reason.fraud_spend_cap'],
      ['Personal spend limit reached', 'reason.fraud_user_spend_cap'],
      ['Number flagged as fraudulent (Wangiri)', 'reason.fraud_flagged'],
    ]
    for (const [phrase, key] of cases) {
      assert.equal(
        outcomeReason({ outcome: 'refused', status: 403, phrase, dialled: '+499001234567' }).reason
          .key,
        key,
        phrase
      )
    }
  })

  test('a company suspended for an overdue invoice is told so, not as toll fraud', ({ assert }) => {
    const { reason } = outcomeReason({
      outcome: 'refused',
      status: 403,
      phrase: 'Payment overdue: outbound calls suspended',
      dialled: '+4930123456',
    })
    assert.equal(reason.key, 'reason.payment_overdue')
  })

  test('a failed emergency call is marked so the page can tell the user to use another phone', ({
    assert,
  }) => {
    const { reason, emergency } = outcomeReason({
      outcome: 'unreachable',
      status: 503,
      phrase: 'No carrier available',
      dialled: '112',
    })
    assert.equal(emergency, '112')
    assert.equal(reason.key, 'reason.no_carrier')
    assert.equal(
      outcomeReason({ outcome: 'no-microphone', status: null, phrase: null, dialled: '110' })
        .emergency,
      '110'
    )
    assert.equal(
      outcomeReason({ outcome: 'no-microphone', status: null, phrase: null, dialled: '110' }).reason
        .key,
      'reason.no_microphone'
    )
  })
})
