import { test } from '@japa/runner'
import {
  failoverOrder,
  resolveRoute,
  type RoutableCarrier,
  type RouteEntry,
  type RoutingCompany,
} from '#calls/routing/route_resolver'
import { toE164Digits } from '#calls/routing/dialled_number'

function carrier(name: string, overrides: Partial<RoutableCarrier> = {}): RoutableCarrier {
  return {
    name,
    region: 'eu',
    active: true,
    outsideEea: false,
    emergencyRank: null,
    emergencyNumbers: ['110', '112'],
    ...overrides,
  }
}

function route(prefix: string, carrierName: string, priority = 1, weight = 100): RouteEntry {
  return { region: 'eu', prefix, carrierName, priority, weight }
}

const company = (overrides: Partial<RoutingCompany> = {}): RoutingCompany => ({
  region: 'eu',
  dataResidency: 'any_with_safeguards',
  country: 'DE',
  objections: [],
  ...overrides,
})

/** A random source replaying fixed values. */
function sequence(...values: number[]) {
  let index = 0
  return () => values[index++ % values.length]
}

test.group('Route resolver: numbers and longest prefix', () => {
  test('normalises national, 00 and + numbers to E.164 digits', ({ assert }) => {
    assert.equal(toE164Digits('030 1234567', 'DE'), '49301234567')
    assert.equal(toE164Digits('+49 (30) 123-4567', 'DE'), '49301234567')
    assert.equal(toE164Digits('0043 1 234567', 'DE'), '431234567')
    assert.isNull(toE164Digits('1234567', 'DE'), 'a local number without area code is not routable')
    assert.isNull(toE164Digits('+49abc', 'DE'))
  })

  test('the longest matching prefix wins', ({ assert }) => {
    const routes = [route('', 'a'), route('49', 'b'), route('4930', 'c'), route('4940', 'd')]
    const carriers = ['a', 'b', 'c', 'd'].map((name) => carrier(name))
    const berlin = resolveRoute({ dialled: '+49 30 1234567', company: company(), routes, carriers })
    assert.deepEqual(berlin, {
      outcome: 'route',
      emergency: false,
      destination: '49301234567',
      prefix: '4930',
      carriers: ['c'],
    })
    const munich = resolveRoute({ dialled: '089 1234567', company: company(), routes, carriers })
    assert.include(munich, { outcome: 'route', prefix: '49' })
    const france = resolveRoute({ dialled: '+33 1 23456789', company: company(), routes, carriers })
    assert.include(france, { outcome: 'route', prefix: '' })
  })

  test('no matching route and an invalid number are refused with their reason', ({ assert }) => {
    const carriers = [carrier('a')]
    assert.deepInclude(
      resolveRoute({
        dialled: '+33123456789',
        company: company(),
        routes: [route('49', 'a')],
        carriers,
      }),
      {
        outcome: 'refused',
        reason: 'no_route',
      }
    )
    assert.deepInclude(
      resolveRoute({ dialled: 'hello', company: company(), routes: [route('', 'a')], carriers }),
      {
        outcome: 'refused',
        reason: 'invalid_number',
      }
    )
  })

  test('routes of another region are ignored', ({ assert }) => {
    const routes = [{ ...route('49', 'x'), region: 'us' }, route('', 'a')]
    const carriers = [carrier('a'), carrier('x', { region: 'us' })]
    const result = resolveRoute({ dialled: '+49301234567', company: company(), routes, carriers })
    assert.deepInclude(result, { outcome: 'route', carriers: ['a'] })
  })
})

test.group('Route resolver: failover order and weights', () => {
  test('lower priority first, every priority level follows in order', ({ assert }) => {
    const routes = [route('49', 'third', 3), route('49', 'first', 1), route('49', 'second', 2)]
    const carriers = ['first', 'second', 'third'].map((name) => carrier(name))
    const result = resolveRoute({ dialled: '+49301234567', company: company(), routes, carriers })
    assert.deepInclude(result, { carriers: ['first', 'second', 'third'] })
  })

  test('within one priority the weight decides who goes first', ({ assert }) => {
    const entries = [
      route('49', 'heavy', 1, 90),
      route('49', 'light', 1, 10),
      route('49', 'backup', 2),
    ]
    // random 0.5 * 100 = 50 falls in heavy's [0, 90); 0.95 * 100 = 95 falls in light's [90, 100)
    assert.deepEqual(failoverOrder(entries, sequence(0.5)), ['heavy', 'light', 'backup'])
    assert.deepEqual(failoverOrder(entries, sequence(0.95, 0.1)), ['light', 'heavy', 'backup'])
  })

  test('weights approximate the split over many calls and weight 0 is only a fallback', ({
    assert,
  }) => {
    const entries = [
      route('49', 'a', 1, 75),
      route('49', 'b', 1, 25),
      route('49', 'never_first', 1, 0),
    ]
    let seed = 42
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
    const firsts: Record<string, number> = { a: 0, b: 0, never_first: 0 }
    for (let i = 0; i < 4000; i++) firsts[failoverOrder(entries, random)[0]]++
    assert.closeTo(firsts.a / 4000, 0.75, 0.04)
    assert.closeTo(firsts.b / 4000, 0.25, 0.04)
    assert.equal(firsts.never_first, 0)
    assert.equal(failoverOrder(entries, random).at(-1), 'never_first')
  })

  test('inactive carriers are left out of the list', ({ assert }) => {
    const routes = [route('49', 'a', 1), route('49', 'b', 2)]
    const carriers = [carrier('a', { active: false }), carrier('b')]
    assert.deepInclude(
      resolveRoute({ dialled: '+49301234567', company: company(), routes, carriers }),
      { carriers: ['b'] }
    )
    assert.deepInclude(
      resolveRoute({
        dialled: '+49301234567',
        company: company(),
        routes,
        carriers: [carrier('a', { active: false })],
      }),
      { outcome: 'refused', reason: 'no_active_carrier' }
    )
  })
})

test.group('Route resolver: residency and objections', () => {
  const routes = [route('49', 'us', 1), route('49', 'eu', 2)]
  const carriers = [carrier('us', { outsideEea: true }), carrier('eu')]

  test('EU-only never gets a carrier processing outside the EU/EEA', ({ assert }) => {
    const result = resolveRoute({
      dialled: '+49301234567',
      company: company({ dataResidency: 'eu_only' }),
      routes,
      carriers,
    })
    assert.deepInclude(result, { outcome: 'route', carriers: ['eu'] })
    const other = resolveRoute({ dialled: '+49301234567', company: company(), routes, carriers })
    assert.deepInclude(other, { carriers: ['us', 'eu'] }, 'without the preference both are used')
  })

  test('EU-only with only non-EU carriers is refused with a clear reason, never leaked', ({
    assert,
  }) => {
    const result = resolveRoute({
      dialled: '+49301234567',
      company: company({ dataResidency: 'eu_only' }),
      routes: [route('49', 'us'), route('', 'us')],
      carriers,
    })
    assert.deepEqual(result, {
      outcome: 'refused',
      emergency: false,
      reason: 'eu_only_no_carrier',
      destination: '49301234567',
    })
  })

  test('a shorter prefix serves when the longest one has no usable carrier', ({ assert }) => {
    const result = resolveRoute({
      dialled: '+49301234567',
      company: company({ dataResidency: 'eu_only' }),
      routes: [route('4930', 'us'), route('', 'eu')],
      carriers,
    })
    assert.deepInclude(result, { outcome: 'route', prefix: '', carriers: ['eu'] })
  })

  test('a carrier the company objected to is excluded, and objecting to all is refused', ({
    assert,
  }) => {
    const result = resolveRoute({
      dialled: '+49301234567',
      company: company({ objections: ['us'] }),
      routes,
      carriers,
    })
    assert.deepInclude(result, { carriers: ['eu'] })
    const none = resolveRoute({
      dialled: '+49301234567',
      company: company({ objections: ['us', 'eu'] }),
      routes,
      carriers,
    })
    assert.deepInclude(none, { outcome: 'refused', reason: 'all_carriers_objected' })
  })
})

test.group('Route resolver: emergency numbers', () => {
  const carriers = [
    carrier('us', { outsideEea: true }),
    carrier('eu_second', { emergencyRank: 1 }),
    carrier('eu_first', { emergencyRank: 0 }),
    carrier('down', { active: false, emergencyRank: 0 }),
  ]

  test('110 and 112 are recognised as dialled, before normalisation, with no route configured', ({
    assert,
  }) => {
    for (const dialled of ['112', ' 110 ']) {
      const result = resolveRoute({ dialled, company: company(), routes: [], carriers })
      assert.equal(result.outcome, 'route')
      assert.isTrue(result.emergency)
      assert.equal(result.destination, dialled.trim())
      assert.deepEqual(result.outcome === 'route' && result.carriers, [
        'eu_first',
        'eu_second',
        'us',
      ])
    }
  })

  test('emergency calls ignore the EU-only preference and objections', ({ assert }) => {
    const result = resolveRoute({
      dialled: '112',
      company: company({ dataResidency: 'eu_only', objections: ['eu_first', 'eu_second'] }),
      routes: [],
      carriers,
    })
    assert.deepInclude(result, {
      outcome: 'route',
      emergency: true,
      carriers: ['eu_first', 'eu_second', 'us'],
    })
  })

  test('a number that only normalises to 112 is not an emergency call', ({ assert }) => {
    const result = resolveRoute({
      dialled: '0112',
      company: company(),
      routes: [route('', 'eu_first')],
      carriers,
    })
    assert.isFalse(result.emergency)
  })

  test('carriers that do not take the short code are skipped', ({ assert }) => {
    const result = resolveRoute({
      dialled: '110',
      company: company(),
      routes: [],
      carriers: [carrier('only112', { emergencyNumbers: ['112'] }), carrier('both')],
    })
    assert.deepInclude(result, { carriers: ['both'] })
  })
})
