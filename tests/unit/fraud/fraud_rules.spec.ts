import { test } from '@japa/runner'
import MemoryCounterStore from '#core/counters/memory_counter_store'
import fraudConfig from '#config/fraud'
import { SEEDED_RISK_PREFIXES } from '#database/migrations/0500_create_fraud_tables'
import NumberRisk from '#fraud/services/number_risk'
import FraudLimiter from '#fraud/services/fraud_limiter'
import FraudPolicies from '#fraud/services/fraud_policies'
import {
  countryRule,
  destinationRules,
  priceRule,
  riskClassRule,
  spendCapRule,
  suspensionRule,
} from '#fraud/services/fraud_rules'

const risk = new NumberRisk(SEEDED_RISK_PREFIXES)
const defaults = new FraudPolicies(fraudConfig).effective({ id: 1, country: 'DE' }, null)

test.group('Fraud: number risk classes', () => {
  test('{$self}')
    .with([
      {
        self: 'German 0900 is premium rate',
        number: '+499001234567',
        classes: ['premium_rate'],
        country: 'DE',
      },
      {
        self: 'German 0137 is a special service (mass traffic)',
        number: '+491371234567',
        classes: ['special_service', 'shared_cost'],
        country: 'DE',
      },
      {
        self: 'German 118xx is a special service (directory)',
        number: '+4911833',
        classes: ['special_service'],
        country: 'DE',
      },
      {
        self: '+882 is high risk with no country',
        number: '+882123456789',
        classes: ['high_risk'],
        country: null,
      },
      { self: '+881 is high risk', number: '+881612345678', classes: ['high_risk'], country: null },
      { self: '+883 is high risk', number: '+883123456789', classes: ['high_risk'], country: null },
      {
        self: 'Sierra Leone is high risk',
        number: '+23276123456',
        classes: ['high_risk'],
        country: 'SL',
      },
      { self: 'Cuba is high risk', number: '+5351234567', classes: ['high_risk'], country: 'CU' },
      {
        self: 'Vanuatu is high risk',
        number: '+6785512345',
        classes: ['high_risk'],
        country: 'VU',
      },
      {
        self: 'a UK premium number is known to libphonenumber-js/max',
        number: '+449098790000',
        classes: ['premium_rate'],
        country: 'GB',
      },
      {
        self: 'a UK personal number',
        number: '+447012345678',
        classes: ['personal_number'],
        country: 'GB',
      },
      { self: 'a UK UAN', number: '+445512345678', classes: ['uan'], country: 'GB' },
      {
        self: 'a Berlin landline has no risk class',
        number: '+4930123456',
        classes: [],
        country: 'DE',
      },
      {
        self: 'a German mobile has no risk class',
        number: '+4915112345678',
        classes: [],
        country: 'DE',
      },
    ])
    .run(({ assert }, row) => {
      const facts = risk.classify(row.number)
      assert.sameMembers(facts.riskClasses, row.classes)
      assert.equal(facts.country, row.country)
    })

  test('the longest prefix of the table wins', ({ assert }) => {
    const table = new NumberRisk([
      { prefix: '49', riskClass: 'high_risk' },
      { prefix: '4930', riskClass: 'special_service' },
    ])
    assert.deepEqual(table.classify('+4930123456').riskClasses, ['special_service'])
    assert.deepEqual(table.classify('+4940123456').riskClasses, ['high_risk'])
  })
})

test.group('Fraud: destination rules', () => {
  const berlin = risk.classify('+4930123456')
  const vienna = risk.classify('+431234567')
  const premium = risk.classify('+499001234567')

  test('a new company may call Germany and the low-risk set, not premium, IRSF or far countries', ({
    assert,
  }) => {
    assert.isNull(destinationRules(defaults, 'none', berlin))
    assert.isNull(destinationRules(defaults, 'none', vienna))
    assert.equal(destinationRules(defaults, 'none', premium)?.reason, 'risk_class_premium_rate')
    assert.equal(
      destinationRules(defaults, 'none', risk.classify('+882123456789'))?.reason,
      'risk_class_high_risk'
    )
    assert.equal(
      destinationRules(defaults, 'none', risk.classify('+12125550100'))?.reason,
      'country_not_allowed'
    )
  })

  test('an enabled risk class lets its numbers through', ({ assert }) => {
    assert.equal(riskClassRule(premium, new Set())?.phrase, 'Destination blocked: premium_rate')
    assert.isNull(riskClassRule(premium, new Set(['premium_rate'])))
  })

  test('allowed countries: a widened list lets a country through; numbers of no country never', ({
    assert,
  }) => {
    const us = risk.classify('+12125550100')
    assert.equal(countryRule(us, new Set(['DE']))?.phrase, 'Destination country not allowed')
    assert.isNull(countryRule(us, new Set(['DE', 'US'])))
    assert.isNotNull(countryRule(risk.classify('+882123456789'), new Set(['DE', 'US'])))
  })

  test('suspension "international_premium" keeps domestic calls, "all" none', ({ assert }) => {
    assert.isNull(suspensionRule('international_premium', berlin, 'DE'))
    assert.equal(
      suspensionRule('international_premium', vienna, 'DE')?.reason,
      'outbound_suspended'
    )
    assert.equal(
      suspensionRule('international_premium', premium, 'DE')?.reason,
      'outbound_suspended'
    )
    assert.equal(suspensionRule('all', berlin, 'DE')?.phrase, 'Outbound calls suspended')
    assert.isNull(suspensionRule('none', vienna, 'DE'))
  })

  test('a suspended user is refused even when the company is not', ({ assert }) => {
    assert.equal(destinationRules(defaults, 'all', berlin)?.reason, 'outbound_suspended')
    assert.equal(
      destinationRules({ ...defaults, suspension: 'all' }, 'none', berlin)?.reason,
      'outbound_suspended'
    )
  })

  test('company overrides merge with the defaults', ({ assert }) => {
    const policies = new FraudPolicies(fraudConfig)
    const policy = policies.effective({ id: 2, country: 'DE' }, {
      allowedCountries: ['DE'],
      enabledRiskClasses: ['premium_rate'],
      outboundSuspension: 'none',
      limits: { device: { concurrent: 2 }, maxDurationSeconds: 5 },
    } as any)
    assert.equal(policy.limits.device.concurrent, 2)
    assert.equal(policy.limits.device.perMinute, fraudConfig.limits.device.perMinute)
    assert.equal(policy.maxDurationSeconds, 5)
    assert.isTrue(policy.enabledRiskClasses.has('premium_rate'))
  })
})

test.group('Fraud: counting limits', () => {
  const limits = { concurrent: 2, perMinute: 3, perHour: 5, perDay: 6 }
  const subject = (key = 'device:1') => [{ key, limits }]
  const number = (destination = '+4930123456', perHour = 100) => ({
    companyId: 1,
    destination,
    perHour,
  })

  function limiterAt(start: number) {
    let now = start
    const counters = new MemoryCounterStore(() => now)
    const limiter = new FraudLimiter(counters, { leaseSeconds: 3600, now: () => now })
    return { limiter, counters, advance: (ms: number) => (now += ms) }
  }

  test('concurrent calls: the third lease is refused; a released one makes room', async ({
    assert,
  }) => {
    const { limiter } = limiterAt(Date.UTC(2026, 0, 5, 9))
    const first = await limiter.admit(subject(), number('+4930000001'), 'Europe/Berlin')
    const second = await limiter.admit(subject(), number('+4930000002'), 'Europe/Berlin')
    const third = await limiter.admit(subject(), number('+4930000003'), 'Europe/Berlin')
    assert.property(first, 'leaseKeys')
    assert.property(second, 'leaseKeys')
    assert.deepEqual(third, {
      refusal: { reason: 'concurrent_limit', phrase: 'Too many concurrent calls' },
    })
    await limiter.release((first as { leaseKeys: string[] }).leaseKeys)
    assert.property(
      await limiter.admit(subject(), number('+4930000004'), 'Europe/Berlin'),
      'leaseKeys'
    )
  })

  test('a refused lease does not hold a place', async ({ assert }) => {
    const { limiter, counters } = limiterAt(Date.UTC(2026, 0, 5, 9))
    await limiter.admit(subject(), number('+4930000001'), 'Europe/Berlin')
    await limiter.admit(subject(), number('+4930000002'), 'Europe/Berlin')
    await limiter.admit(subject(), number('+4930000003'), 'Europe/Berlin')
    assert.equal(await counters.get(FraudLimiter.leaseKey('device:1')), 2)
  })

  test('calls per minute: the fourth in a minute is refused, the next minute allows again', async ({
    assert,
  }) => {
    const { limiter, advance } = limiterAt(Date.UTC(2026, 0, 5, 9, 0, 0))
    const many = { concurrent: 100, perMinute: 3, perHour: 100, perDay: 100 }
    const admit = (n: number) =>
      limiter.admit([{ key: 'user:1', limits: many }], number(`+49300000${n}`), 'Europe/Berlin')
    for (let n = 10; n < 13; n++) assert.property(await admit(n), 'leaseKeys')
    assert.deepEqual(await admit(13), {
      refusal: { reason: 'rate_limit', phrase: 'Call limit reached' },
    })
    advance(60_000)
    assert.property(await admit(14), 'leaseKeys')
  })

  test('calls per hour and per day', async ({ assert }) => {
    const { limiter, advance } = limiterAt(Date.UTC(2026, 0, 5, 9, 0, 0))
    const hourly = { concurrent: 100, perMinute: 100, perHour: 2, perDay: 3 }
    const admit = (n: number) =>
      limiter.admit(
        [{ key: 'company:1', limits: hourly }],
        number(`+49300001${n}`),
        'Europe/Berlin'
      )
    assert.property(await admit(1), 'leaseKeys')
    assert.property(await admit(2), 'leaseKeys')
    assert.property(await admit(3), 'refusal')
    advance(3_600_000)
    assert.property(await admit(4), 'leaseKeys')
    // Three calls today: the day is full until midnight in Berlin.
    assert.property(await admit(5), 'refusal')
  })

  test('the day resets at midnight in the company time zone, not at UTC midnight', async ({
    assert,
  }) => {
    // 22:30 UTC on 5 January is 23:30 in Berlin; 23:15 UTC is 00:15 on the 6th there.
    const { limiter, advance } = limiterAt(Date.UTC(2026, 0, 5, 22, 30))
    const daily = { concurrent: 100, perMinute: 100, perHour: 100, perDay: 1 }
    const admit = (n: number) =>
      limiter.admit([{ key: 'company:7', limits: daily }], number(`+49300002${n}`), 'Europe/Berlin')
    assert.property(await admit(1), 'leaseKeys')
    assert.property(await admit(2), 'refusal')
    advance(45 * 60_000)
    assert.property(await admit(3), 'leaseKeys')
    assert.equal(limiter.day('Europe/Berlin', Date.UTC(2026, 6, 5, 22, 30)), '2026-07-06')
    assert.equal(limiter.day('Europe/Berlin', Date.UTC(2026, 6, 5, 21, 30)), '2026-07-05')
  })

  test('calls to one number per hour', async ({ assert }) => {
    const { limiter, advance } = limiterAt(Date.UTC(2026, 0, 5, 9))
    const many = { concurrent: 100, perMinute: 100, perHour: 100, perDay: 100 }
    const admit = () =>
      limiter.admit([{ key: 'company:1', limits: many }], number('+4930999999', 2), 'Europe/Berlin')
    assert.property(await admit(), 'leaseKeys')
    assert.property(await admit(), 'leaseKeys')
    assert.deepEqual(await admit(), {
      refusal: { reason: 'number_rate_limit', phrase: 'Call limit reached for this number' },
    })
    assert.property(
      await limiter.admit(
        [{ key: 'company:1', limits: many }],
        number('+4930999998', 2),
        'Europe/Berlin'
      ),
      'leaseKeys'
    )
    advance(3_600_000)
    assert.property(await admit(), 'leaseKeys')
  })

  test('a lease counter expires after its time to live (a lost release never blocks for good)', async ({
    assert,
  }) => {
    const { limiter, advance } = limiterAt(Date.UTC(2026, 0, 5, 9))
    const one = { concurrent: 1, perMinute: 100, perHour: 100, perDay: 100 }
    assert.property(
      await limiter.admit(
        [{ key: 'device:9', limits: one }],
        number('+4930000051'),
        'Europe/Berlin'
      ),
      'leaseKeys'
    )
    assert.property(
      await limiter.admit(
        [{ key: 'device:9', limits: one }],
        number('+4930000052'),
        'Europe/Berlin'
      ),
      'refusal'
    )
    advance(3_600_000)
    assert.property(
      await limiter.admit(
        [{ key: 'device:9', limits: one }],
        number('+4930000053'),
        'Europe/Berlin'
      ),
      'leaseKeys'
    )
  })

  test('setLeases rebuilds a counter to the running calls', async ({ assert }) => {
    const { limiter, counters } = limiterAt(Date.UTC(2026, 0, 5, 9))
    await counters.increment(FraudLimiter.leaseKey('company:3'), 3600, 7)
    await limiter.setLeases('company:3', 2)
    assert.equal(await counters.get(FraudLimiter.leaseKey('company:3')), 2)
    await limiter.setLeases('company:3', 0)
    assert.equal(await counters.get(FraudLimiter.leaseKey('company:3')), 0)
  })
})

test.group('Fraud: money rules', () => {
  const limits = {
    maxPricePerMinuteMicro: 100_000,
    dailyCapMicro: 1_000_000,
    monthlyCapMicro: 5_000_000,
  }

  test('the maximum price per minute refuses only what is priced above it', ({ assert }) => {
    assert.isNull(priceRule(100_000, 100_000))
    assert.equal(priceRule(100_001, 100_000)?.reason, 'price_above_maximum')
    assert.isNull(priceRule(null, 100_000), 'an unpriced destination is not refused here')
    assert.isNull(priceRule(900_000, null))
  })

  test('spend caps count the accrued cost of running calls and cap the duration at the budget left', ({
    assert,
  }) => {
    assert.deepEqual(spendCapRule(limits, { day: 400_000, month: 400_000 }, 0, 200_000), {
      maxDurationSeconds: 180,
    })
    assert.deepEqual(spendCapRule(limits, { day: 400_000, month: 400_000 }, 300_000, 200_000), {
      maxDurationSeconds: 90,
    })
    assert.deepEqual(spendCapRule(limits, { day: 700_000, month: 700_000 }, 300_000, 200_000), {
      refusal: { reason: 'daily_spend_cap', phrase: 'Spend limit reached' },
    })
    assert.deepEqual(spendCapRule(limits, { day: 0, month: 5_000_000 }, 0, 200_000), {
      refusal: { reason: 'monthly_spend_cap', phrase: 'Spend limit reached' },
    })
    assert.deepEqual(
      spendCapRule(
        { ...limits, dailyCapMicro: null, monthlyCapMicro: null },
        { day: 9e9, month: 9e9 },
        0,
        1
      ),
      { maxDurationSeconds: null }
    )
  })
})
