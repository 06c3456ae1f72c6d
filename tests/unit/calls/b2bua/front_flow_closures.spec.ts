import { test } from '@japa/runner'
import { FakeClock } from '#sip'
import FrontFlowClosures from '#calls/b2bua/front_flow_closures'

/** A bus that keeps its subscriptions, so the test can publish as the front would. */
class FakeBus {
  readonly handlers = new Map<string, (message: string) => void>()
  subscribe(channel: string, handler: (message: string) => void) {
    this.handlers.set(channel, handler)
  }
  async unsubscribe(channel: string) {
    this.handlers.delete(channel)
  }
  publish(channel: string, message: string) {
    this.handlers.get(channel)?.(message)
  }
}

function setup() {
  const bus = new FakeBus()
  const clock = new FakeClock()
  const removed: string[] = []
  const ended: string[] = []
  const closures = new FrontFlowClosures({
    bus,
    prefix: 'fluffycall:',
    removeBindings: async (flow) => removed.push(flow),
    endCallsOn: async (flow) => ended.push(flow),
    graceSeconds: 5,
    clock,
    onError: (error) => {
      throw error
    },
  })
  return { bus, clock, removed, ended, closures }
}

test.group('FrontFlowClosures', () => {
  test('a flow published on <prefix>front:flow-closed loses its bindings at once and its calls after the grace', async ({
    assert,
  }) => {
    const { bus, clock, removed, ended, closures } = setup()
    closures.start()
    assert.deepEqual([...bus.handlers.keys()], ['fluffycall:front:flow-closed'])
    bus.publish('fluffycall:front:flow-closed', 'wss:[2001:db8::7]:50123')
    assert.deepEqual(removed, ['wss:[2001:db8::7]:50123'])
    assert.deepEqual(ended, [])
    clock.advance(4999)
    assert.deepEqual(ended, [])
    clock.advance(1)
    assert.deepEqual(ended, ['wss:[2001:db8::7]:50123'])
  })

  test('the same flow twice ends its calls once; garbage is ignored; stop unsubscribes and clears timers', async ({
    assert,
  }) => {
    const { bus, clock, removed, ended, closures } = setup()
    closures.start()
    bus.publish('fluffycall:front:flow-closed', 'ws:198.51.100.7:40000')
    bus.publish('fluffycall:front:flow-closed', 'ws:198.51.100.7:40000')
    bus.publish('fluffycall:front:flow-closed', 'not a flow')
    assert.deepEqual(removed, ['ws:198.51.100.7:40000', 'ws:198.51.100.7:40000'])
    assert.equal(closures.pending, 1)
    clock.advance(5000)
    assert.deepEqual(ended, ['ws:198.51.100.7:40000'])

    bus.publish('fluffycall:front:flow-closed', 'ws:198.51.100.8:40000')
    await closures.stop()
    assert.equal(bus.handlers.size, 0)
    clock.advance(10_000)
    assert.deepEqual(ended, ['ws:198.51.100.7:40000'], 'no call ended after stop')
  })
})
