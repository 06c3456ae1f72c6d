import { test } from '@japa/runner'
// Browser code (bundled by Vite) has no subpath import; it is plain TypeScript without DOM use here.
import { outcomeReason, serverEndCause } from '../../../../resources/js/phone/outcome_reason.js'
import { SYSTEM_END_CAUSES, systemEndReason } from '#calls/b2bua/end_reason'
import { SCRIPT_TEXTS } from '#calls/services/phone_script_texts'

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

  test('a call the server ended: its cause read from the BYE’s Reason header, in words, no emergency advice', ({
    assert,
  }) => {
    const [name, value] = systemEndReason('media_failed')
    assert.equal(name, 'Reason')
    assert.equal(value, 'Q.850;cause=41;text="media_failed"')
    assert.equal(serverEndCause(value), 'media_failed')
    assert.equal(serverEndCause(systemEndReason('max_duration')[1]), 'max_duration')
    assert.equal(serverEndCause('Q.850 ; cause=102 ; text="media_timeout"'), 'media_timeout')
    // A carrier's own reason, ours without words, none at all: the plain "ended"
    assert.isNull(serverEndCause('Q.850;cause=16;text="Normal call clearing"'))
    assert.isNull(serverEndCause('SIP;cause=200;text="answered_normal"'))
    assert.isNull(serverEndCause(undefined))
    const cut = (phrase: string, dialled: string | null = '+4930123456') =>
      outcomeReason({ outcome: 'cut-off', status: null, phrase, dialled })
    assert.equal(cut('media_failed').reason.key, 'reason.cut_off_media')
    assert.equal(cut('media_timeout').reason.key, 'reason.cut_off_media')
    assert.equal(cut('spend_cap').reason.key, 'reason.cut_off_spend_cap')
    assert.equal(cut('node_lost').reason.key, 'reason.cut_off_server')
    assert.equal(cut('something_new').reason.key, 'reason.cut_off_server')
    assert.isNull(cut('media_failed', '112').emergency, 'the call was connected')
  })

  test('every cause the server may name in a BYE has words in English and German, handed to the page', async ({
    assert,
  }) => {
    const { readFile } = await import('node:fs/promises')
    assert.isAtLeast(SYSTEM_END_CAUSES.length, 11)
    for (const lang of ['en', 'de']) {
      const texts = JSON.parse(await readFile(`resources/lang/${lang}/phone.json`, 'utf8'))
      for (const cause of SYSTEM_END_CAUSES) {
        assert.equal(serverEndCause(systemEndReason(cause)[1]), cause)
        const key = outcomeReason({
          outcome: 'cut-off',
          status: null,
          phrase: cause,
          dialled: null,
        }).reason.key
        assert.isString(texts.script.reason[key.replace('reason.', '')], `${lang}: ${key}`)
        assert.include(SCRIPT_TEXTS, key, 'handed to the page')
      }
      assert.isString(texts.script.state.cut_off, `${lang}: state.cut_off`)
      assert.include(SCRIPT_TEXTS, 'state.cut_off')
    }
  })
})
