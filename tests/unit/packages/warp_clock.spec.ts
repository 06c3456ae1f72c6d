import { test } from '@japa/runner'
import { setTimeout as sleep } from 'node:timers/promises'
import { WarpClock } from '#sip'

test.group('WarpClock', () => {
  test('runs timers on real time; warp fires what falls within it, in due order, and brings the rest nearer', async ({
    assert,
  }) => {
    const clock = new WarpClock()
    const fired: string[] = []
    clock.setTimeout(() => fired.push('soon'), 5)
    clock.setTimeout(() => fired.push('32 s'), 32_000)
    clock.setTimeout(() => fired.push('10 s'), 10_000)
    const late = clock.setTimeout(() => fired.push('cleared'), 20_000)
    clock.setTimeout(() => fired.push('an hour'), 3_600_000)
    await sleep(30)
    assert.deepEqual(fired, ['soon'], 'real time: the 5 ms timer only')

    const before = clock.now()
    clock.clearTimeout(late)
    clock.warp(33_000)
    assert.isAtLeast(clock.now() - before, 33_000)
    await sleep(30)
    assert.deepEqual(fired, ['soon', '10 s', '32 s'])
    assert.equal(clock.pending, 1, 'the hour-long timer waits on')

    // A timer set after the warp counts from the new now
    clock.setTimeout(() => fired.push('after'), 5)
    await sleep(30)
    assert.deepEqual(fired.at(-1), 'after')
    clock.warp(3_600_000)
    await sleep(30)
    assert.deepEqual(fired.at(-1), 'an hour')
    assert.equal(clock.pending, 0)
  })
})
