import { test } from '@japa/runner'
import Heartbeat, { type HeartbeatTimer } from '#media/worker/heartbeat'

/** An interval the test ticks by hand: no real waits. */
class ManualTimer implements HeartbeatTimer {
  callback: (() => void) | null = null
  ms = 0
  setInterval(callback: () => void, ms: number) {
    this.callback = callback
    this.ms = ms
    return 1
  }
  clearInterval() {
    this.callback = null
  }
  tick() {
    this.callback?.()
  }
}

/** A worker whose pings the test answers (or not). */
function worker() {
  const pings: Array<() => void> = []
  return {
    pings,
    ping: () => new Promise<void>((resolve) => pings.push(resolve)),
    answerAll: async () => {
      for (const answer of pings.splice(0)) answer()
      await Promise.resolve()
    },
  }
}

test.group('Media worker heartbeat', () => {
  test('a worker that answers every ping is never hung, however long it runs', async ({
    assert,
  }) => {
    const timer = new ManualTimer()
    const peer = worker()
    let hung = 0
    const heartbeat = new Heartbeat(peer.ping, () => hung++, { timer })
    heartbeat.start()
    assert.equal(timer.ms, 1000, '1 s between pings by default')
    for (let round = 0; round < 20; round++) {
      timer.tick()
      await peer.answerAll()
    }
    assert.equal(hung, 0)
    assert.equal(heartbeat.missed, 0)
  })

  test('no answer for 5 ticks in a row: hung, once; a late answer before that resets the count', async ({
    assert,
  }) => {
    const timer = new ManualTimer()
    const peer = worker()
    let hung = 0
    const heartbeat = new Heartbeat(peer.ping, () => hung++, { timer })
    heartbeat.start()
    timer.tick()
    assert.lengthOf(peer.pings, 1)
    // Busy for 4 ticks, then answers: not hung
    for (let tick = 0; tick < 4; tick++) timer.tick()
    assert.equal(heartbeat.missed, 4)
    assert.lengthOf(peer.pings, 1, 'one ping in flight at a time')
    await peer.answerAll()
    assert.equal(heartbeat.missed, 0)
    assert.equal(hung, 0)

    timer.tick()
    for (let tick = 0; tick < 4; tick++) timer.tick()
    assert.equal(hung, 0)
    timer.tick()
    assert.equal(hung, 1, 'the fifth unanswered tick')
    assert.isNull(timer.callback, 'the heartbeat stops: the worker is killed and restarted')
    for (let tick = 0; tick < 10; tick++) timer.tick()
    assert.equal(hung, 1)
  })

  test('a failed ping (the request timed out) is no answer; interval and misses are configurable', async ({
    assert,
  }) => {
    const timer = new ManualTimer()
    let hung = 0
    const heartbeat = new Heartbeat(
      () => Promise.reject(new Error('the media worker did not answer ping')),
      () => hung++,
      { timer, intervalMs: 200, misses: 3 }
    )
    heartbeat.start()
    assert.equal(timer.ms, 200)
    timer.tick()
    await Promise.resolve()
    timer.tick()
    timer.tick()
    assert.equal(hung, 0)
    timer.tick()
    assert.equal(hung, 1)
  })

  test('stopped (the worker exited): ticks do nothing; started again it counts from 0', async ({
    assert,
  }) => {
    const timer = new ManualTimer()
    const peer = worker()
    let hung = 0
    const heartbeat = new Heartbeat(peer.ping, () => hung++, { timer, misses: 2 })
    heartbeat.start()
    timer.tick()
    timer.tick()
    assert.equal(heartbeat.missed, 1)
    heartbeat.stop()
    heartbeat.tick()
    assert.equal(hung, 0)
    // A ping of the old process answered late does not count for the new one
    heartbeat.start()
    timer.tick()
    assert.lengthOf(peer.pings, 2)
    peer.pings[0]()
    await Promise.resolve()
    timer.tick()
    assert.equal(heartbeat.missed, 1)
    timer.tick()
    assert.equal(hung, 1)
  })
})
