import { test } from '@japa/runner'
import CoalescedTimers, { CoalescedTimer, type TimerSource } from '#media/coalesced_timers'

/** The one real timer, run by hand: `advance` moves the clock and fires it when it is due. */
class ManualSource implements TimerSource {
  ms = 10_000
  armed: { at: number; callback: () => void } | null = null
  /** Real timers set so far (each wake-up needs one). */
  armings = 0
  now() {
    return this.ms
  }
  setTimeout(callback: () => void, ms: number) {
    this.armings++
    this.armed = { at: this.ms + ms, callback }
    return this.armed
  }
  clearTimeout(handle: unknown) {
    if (this.armed === handle) this.armed = null
  }
  advance(ms: number) {
    const end = this.ms + ms
    while (this.armed && this.armed.at <= end) {
      const { at, callback } = this.armed
      this.armed = null
      this.ms = at
      callback()
    }
    this.ms = end
  }
}

test.group('CoalescedTimers (one real timer for the engine)', () => {
  test('timers due in the same slot fire in one wake-up, never early, at most one slot late', ({
    assert,
  }) => {
    const source = new ManualSource()
    const timers = new CoalescedTimers(source, 100)
    const fired: { name: string; at: number }[] = []
    const delays: Record<string, number> = { a: 5, b: 40, c: 99, d: 150, e: 2500 }
    for (const [name, delay] of Object.entries(delays)) {
      timers.setTimeout(() => fired.push({ name, at: source.ms }), delay)
    }
    assert.equal(timers.size, 5)
    source.advance(3000)
    assert.deepEqual(
      fired.map((f) => f.name),
      ['a', 'b', 'c', 'd', 'e']
    )
    for (const { name, at } of fired) {
      const late = at - 10_000 - delays[name]
      assert.isAtLeast(late, 0, name)
      assert.isAtMost(late, 100, name)
    }
    // a, b and c share the slot at 10,100; d and e have their own
    assert.equal(timers.wakeups, 3)
    assert.equal(timers.size, 0)
    assert.isNull(source.armed, 'nothing pending: no real timer')
  })

  test('many calls’ periodic timers: wake-ups per second bounded by the slots, not the calls', ({
    assert,
  }) => {
    const source = new ManualSource()
    const timers = new CoalescedTimers(source, 100)
    const counts = new Array(200).fill(0)
    const periodic = counts.map((_, call) => {
      const timer: CoalescedTimer = new CoalescedTimer(() => {
        counts[call]++
        // The same object re-armed: no allocation per period
        timers.schedule(timer, 1000)
      })
      // Calls start at scattered times
      source.advance(7)
      timers.schedule(timer, 1000)
      return timer
    })
    const wakeupsBefore = timers.wakeups
    source.advance(10_000)
    // 200 timers of 1 s: ~2,000 callbacks in 10 s but at most 10 slots per second
    assert.isAtMost(timers.wakeups - wakeupsBefore, 100)
    for (const count of counts) assert.oneOf(count, [9, 10, 11])
    for (const timer of periodic) timers.clearTimeout(timer)
    assert.equal(timers.size, 0)
    assert.isNull(source.armed)
  })

  test('a cancelled timer never fires; an earlier timer re-arms the real one earlier', ({
    assert,
  }) => {
    const source = new ManualSource()
    const timers = new CoalescedTimers(source, 100)
    const fired: string[] = []
    const late = timers.setTimeout(() => fired.push('late'), 5000)
    const cancelled = timers.setTimeout(() => fired.push('cancelled'), 2000)
    timers.setTimeout(() => fired.push('early'), 300)
    assert.isAtMost(source.armed!.at, 10_400)
    timers.clearTimeout(cancelled)
    assert.isFalse(cancelled.pending)
    timers.clearTimeout(cancelled)
    source.advance(10_000)
    assert.deepEqual(fired, ['early', 'late'])
    assert.isFalse(late.pending)
  })

  test('a timer re-armed from its callback with 0 ms waits for the next slot', ({ assert }) => {
    const source = new ManualSource()
    const timers = new CoalescedTimers(source, 100)
    let runs = 0
    const timer: CoalescedTimer = new CoalescedTimer(() => {
      runs++
      timers.schedule(timer, 0)
    })
    timers.schedule(timer, 0)
    source.advance(1000)
    assert.equal(runs, 10)
    assert.equal(timers.wakeups, 10)
  })

  test('a callback that throws does not lose the others due with it', ({ assert }) => {
    const source = new ManualSource()
    const timers = new CoalescedTimers(source, 100)
    const fired: string[] = []
    timers.setTimeout(() => {
      throw new Error('boom')
    }, 10)
    timers.setTimeout(() => fired.push('after'), 20)
    assert.throws(() => source.advance(200), 'boom')
    source.advance(200)
    assert.deepEqual(fired, ['after'])
  })

  test('random delays with cancellations fire in due order, each within its slot', ({ assert }) => {
    const source = new ManualSource()
    const timers = new CoalescedTimers(source, 50)
    let seed = 7
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff
      return seed / 0x80000000
    }
    const expected = new Map<number, number>()
    const fired: { id: number; at: number }[] = []
    const all: CoalescedTimer[] = []
    for (let id = 0; id < 500; id++) {
      const delay = Math.floor(random() * 20_000)
      expected.set(id, source.ms + delay)
      all.push(timers.setTimeout(() => fired.push({ id, at: source.ms }), delay))
    }
    for (let id = 0; id < 500; id += 5) {
      timers.clearTimeout(all[id])
      expected.delete(id)
    }
    source.advance(30_000)
    assert.equal(fired.length, expected.size)
    for (let i = 0; i < fired.length; i++) {
      const { id, at } = fired[i]
      assert.isAtLeast(at, expected.get(id)!)
      assert.isAtMost(at, expected.get(id)! + 50)
      if (i > 0) assert.isAtLeast(at, fired[i - 1].at)
    }
  })
})
