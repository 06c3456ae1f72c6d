import { test } from '@japa/runner'
import FakeClock from '#sip/clock/fake_clock'
import TokenBucketRateLimiter from '#sip/transport/token_bucket_rate_limiter'

function drain(limiter: TokenBucketRateLimiter, source: string, attempts: number): number {
  let allowed = 0
  for (let i = 0; i < attempts; i++) {
    if (limiter.allow(source)) allowed++
  }
  return allowed
}

test.group('TokenBucketRateLimiter', () => {
  test('allows a burst, then refuses until tokens refill', ({ assert }) => {
    const clock = new FakeClock()
    const limiter = new TokenBucketRateLimiter(clock, { burst: 5, perSecond: 2, maxSources: 10 })
    assert.equal(drain(limiter, '192.0.2.1', 20), 5)
    clock.advance(499)
    assert.isFalse(limiter.allow('192.0.2.1'))
    clock.advance(1)
    assert.isTrue(limiter.allow('192.0.2.1'))
    assert.isFalse(limiter.allow('192.0.2.1'))
  })

  test('a flooding source does not use up another source’s budget', ({ assert }) => {
    const clock = new FakeClock()
    const limiter = new TokenBucketRateLimiter(clock, { burst: 10, perSecond: 10, maxSources: 10 })
    assert.equal(drain(limiter, 'flooder', 10_000), 10)
    assert.equal(drain(limiter, 'neighbour', 10), 10)
    clock.advance(1000)
    assert.equal(drain(limiter, 'flooder', 10_000), 10, 'refills at the sustained rate only')
  })

  test('refill never exceeds the burst', ({ assert }) => {
    const clock = new FakeClock()
    const limiter = new TokenBucketRateLimiter(clock, { burst: 3, perSecond: 100, maxSources: 10 })
    drain(limiter, 'a', 3)
    clock.advance(60_000)
    assert.equal(drain(limiter, 'a', 10), 3)
  })

  test('tracks at most maxSources sources, forgetting idle ones first', ({ assert }) => {
    const clock = new FakeClock()
    const limiter = new TokenBucketRateLimiter(clock, { burst: 2, perSecond: 1, maxSources: 3 })
    drain(limiter, 'busy', 2)
    limiter.allow('idle-1')
    limiter.allow('idle-2')
    clock.advance(1000)
    for (let i = 0; i < 100; i++) limiter.allow(`spoofed-${i}`)
    assert.isAtMost(limiter.trackedSources, 3)
  })

  test('rejects nonsensical options', ({ assert }) => {
    assert.throws(
      () => new TokenBucketRateLimiter(new FakeClock(), { burst: 0, perSecond: 1, maxSources: 1 })
    )
  })
})
