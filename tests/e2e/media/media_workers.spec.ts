import { test } from '@japa/runner'
import type { Group } from '@japa/runner/core'
import dgram from 'node:dgram'
import WorkerMediaEngine, {
  portSlices,
  type WorkerEngineEvent,
  type WorkerMediaEngineConfig,
} from '#media/worker/worker_media_engine'
import mediaConfig from '#config/media'
import type { BridgeEndReason, MediaBridge, RtpLeg } from '#media/types'

/*
 * WorkerMediaEngine's own behaviour against UDP peers in the test process: port slices, a call's
 * legs in one worker, two legs in different workers joined through a loopback RTP hop (audio and
 * RFC 4733 DTMF both ways, hold, replacing a leg), a dead worker ending a bridge that crosses, and
 * a worker that runs out of memory under its heap limit ending only its own bridge.
 */

/** The top 200 ports of this checkout's ranges (fixed ones collided with bench/media_relay.ts runs). */
const top = (range: [number, number]): [number, number] => [range[1] - 199, range[1]]

function newEngine(extra: Partial<WorkerMediaEngineConfig> = {}) {
  return new WorkerMediaEngine({
    announcedIps: ['127.0.0.1'],
    webrtcPorts: top(mediaConfig.webrtcPorts),
    rtpPorts: top(mediaConfig.rtpPorts),
    mediaTimeoutSeconds: 10,
    workers: 2,
    ...extra,
  })
}

/** A plain RTP peer: plays PCMA (or DTMF events) to a leg, records the payload types it gets. */
class Peer {
  readonly socket = dgram.createSocket('udp4')
  readonly received: Array<{ payloadType: number; tag: number }> = []
  #timer: NodeJS.Timeout | undefined

  async open() {
    await new Promise<void>((resolve) => this.socket.bind(0, '127.0.0.1', resolve))
    this.socket.on('message', (packet) => {
      if (packet.length > 12 && packet[0] >> 6 === 2)
        this.received.push({ payloadType: packet[1] & 0x7f, tag: packet[12] })
    })
    return this
  }

  get port() {
    return this.socket.address().port
  }

  sdp() {
    return [
      'v=0',
      'o=peer 1 1 IN IP4 127.0.0.1',
      's=-',
      'c=IN IP4 127.0.0.1',
      't=0 0',
      `m=audio ${this.port} RTP/AVP 8 101`,
      'a=rtpmap:8 PCMA/8000',
      'a=rtpmap:101 telephone-event/8000',
      'a=sendrecv',
      '',
    ].join('\r\n')
  }

  play(port: number, tag: number) {
    let seq = 0
    clearInterval(this.#timer)
    this.#timer = setInterval(() => {
      const packet = Buffer.alloc(12 + 160, tag)
      packet[0] = 0x80
      packet[1] = 8
      packet.writeUInt16BE(seq & 0xffff, 2)
      packet.writeUInt32BE((seq * 160) >>> 0, 4)
      packet.writeUInt32BE(tag, 8)
      seq++
      this.socket.send(packet, port, '127.0.0.1')
    }, 20)
  }

  dtmf(port: number) {
    const packet = Buffer.alloc(16)
    packet[0] = 0x80
    packet[1] = 101 | 0x80
    packet.writeUInt16BE(9000, 2)
    packet.writeUInt32BE(1, 8)
    packet[12] = 5
    packet[13] = 0x8a
    packet.writeUInt16BE(800, 14)
    for (let copy = 0; copy < 3; copy++) this.socket.send(packet, port, '127.0.0.1')
  }

  stop() {
    clearInterval(this.#timer)
  }

  close() {
    this.stop()
    this.socket.close()
  }

  count(tag: number) {
    return this.received.filter((packet) => packet.tag === tag && packet.payloadType === 8).length
  }
}

/** Opens the peers of a test; they are closed after it. */
function peersOf(group: Group) {
  const peers: Peer[] = []
  group.each.teardown(() => {
    for (const open of peers.splice(0)) open.close()
  })
  return async function peer() {
    const opened: Peer = await new Peer().open()
    peers.push(opened)
    return opened
  }
}

async function waitFor(what: string, condition: () => boolean, ms = 5000) {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

async function legTo(engine: WorkerMediaEngine, peer: Peer, near?: RtpLeg) {
  const leg = await engine.createRtpLeg({ near })
  await leg.createOffer({ codecs: ['PCMA'] })
  await leg.applyAnswer(peer.sdp())
  return leg
}

test.group('Media workers: the engine', (group) => {
  let engine: WorkerMediaEngine
  const peer = peersOf(group)
  group.each.setup(async () => {
    engine = newEngine()
    await engine.started()
  })
  group.each.teardown(() => engine.close())

  test("a worker of an engine made without testHooks refuses the tests' memory hog", async ({
    assert,
  }) => {
    const error = await engine.workers[0].request({ op: 'exhaustMemory' }).catch((e: Error) => e)
    assert.instanceOf(error, Error)
    assert.match((error as Error).message, /test hook/)
    assert.isTrue(engine.workers[0].alive)
  })

  test('port ranges are split into disjoint slices on even ports', ({ assert }) => {
    assert.deepEqual(portSlices([40_000, 44_999], 2), [
      [40_000, 42_499],
      [42_500, 44_999],
    ])
    assert.deepEqual(portSlices([40_001, 40_010], 3), [
      [40_002, 40_003],
      [40_004, 40_005],
      [40_006, 40_010],
    ])
    assert.throws(() => portSlices([40_000, 40_003], 3), /too small/)
    assert.deepEqual(
      engine.workers.map((worker) => worker.legs.size),
      [0, 0]
    )
  })

  test('a leg created near another goes to its worker; legs of new calls to the emptier worker', async ({
    assert,
  }) => {
    const [p1, p2, p3] = [await peer(), await peer(), await peer()]
    const first = await legTo(engine, p1)
    const partner = await legTo(engine, p2, first)
    const next = await legTo(engine, p3)
    const workerOf = (leg: RtpLeg) =>
      engine.workers.find((worker) => worker.legs.has(engine.legOf(leg).id))
    assert.equal(workerOf(first), workerOf(partner))
    assert.notEqual(workerOf(next), workerOf(first))
    const [low, high] = engine.workers.map((worker) => worker.config.rtpPorts)
    for (const leg of [first, partner, next]) {
      const range = workerOf(leg) === engine.workers[0] ? low : high
      assert.isAtLeast(leg.localPort, range[0])
      assert.isAtMost(leg.localPort, range[1])
    }
  })

  test('legs in two workers: audio and DTMF both ways through the loopback hop, hold, replace, close', async ({
    assert,
  }) => {
    const [pa, pb, pc] = [await peer(), await peer(), await peer()]
    const a = await legTo(engine, pa)
    const b = await legTo(engine, pb)
    const bridge = engine.bridge(a, b) as MediaBridge & {
      crossesWorkers: boolean
      settled(): Promise<void>
    }
    assert.isTrue(bridge.crossesWorkers, 'the legs live in different workers')
    await bridge.settled()
    pa.play(a.localPort, 0x0a)
    pb.play(b.localPort, 0x0b)
    await waitFor('audio a → b', () => pb.count(0x0a) > 20)
    await waitFor('audio b → a', () => pa.count(0x0b) > 20)
    pa.dtmf(a.localPort)
    await waitFor('DTMF a → b', () => pb.received.some((packet) => packet.payloadType === 101))
    await waitFor(
      'relayed figures',
      () => bridge.relayed.aToB > 20 && bridge.relayed.bToA > 20,
      2000
    )

    bridge.setHeld(true)
    await bridge.settled()
    await new Promise((resolve) => setTimeout(resolve, 300))
    const held = pb.count(0x0a)
    await new Promise((resolve) => setTimeout(resolve, 300))
    assert.isAtMost(pb.count(0x0a) - held, 2, 'nothing relayed while held')
    bridge.setHeld(false)
    await waitFor('audio again after hold', () => pb.count(0x0a) > held + 10)

    // b's peer is replaced by a leg in a's worker: no hop any more, audio goes on
    const c = await legTo(engine, pc, a)
    pb.stop()
    bridge.replace(b, c)
    assert.isFalse(bridge.crossesWorkers)
    await bridge.settled()
    pc.play(c.localPort, 0x0c)
    await waitFor('audio a → c', () => pc.count(0x0a) > 20)
    await waitFor('audio c → a', () => pa.count(0x0c) > 20)

    bridge.close()
    await bridge.settled()
    await Promise.all([a, b, c].map((leg) => leg.close()))
    await waitFor('every leg closed, hops too', () => engine.openLegs === 0)
  })

  test('a worker that dies ends the bridges that cross into it with media_failed and comes back', async ({
    assert,
  }) => {
    const [pa, pb] = [await peer(), await peer()]
    const a = await legTo(engine, pa)
    const b = await legTo(engine, pb)
    const bridge = engine.bridge(a, b) as MediaBridge & { settled(): Promise<void> }
    const ended: BridgeEndReason[] = []
    bridge.onEnded((reason) => ended.push(reason))
    await bridge.settled()
    const victim = engine.workers.find((worker) => worker.legs.has(engine.legOf(b).id))!
    const pid = victim.pid!
    process.kill(pid, 'SIGKILL')
    await waitFor('the bridge ended', () => ended.length > 0)
    assert.deepEqual(ended, ['media_failed'])
    await waitFor(
      'the worker back',
      () => victim.alive && victim.pid !== pid && victim.figures !== null,
      20_000
    )
    await a.close()
    await waitFor('the surviving worker’s legs closed', () => engine.openLegs === 0)
  })
})

test.group('Media workers: a heap limit', (group) => {
  let engine: WorkerMediaEngine
  const events: WorkerEngineEvent[] = []
  const peer = peersOf(group)
  group.each.setup(async () => {
    engine = newEngine({
      maxHeapMb: 96,
      testHooks: true,
      onEvent: (event) => events.push(event),
    })
    await engine.started()
  })
  group.each.teardown(() => engine.close())

  test('a worker out of memory ends only its own call with media_failed; the other worker relays on; it comes back', async ({
    assert,
  }) => {
    const [pa, pb, pc, pd] = [await peer(), await peer(), await peer(), await peer()]
    const a = await legTo(engine, pa)
    const b = await legTo(engine, pb, a)
    const c = await legTo(engine, pc)
    const d = await legTo(engine, pd, c)
    const workerOf = (leg: RtpLeg) =>
      engine.workers.find((worker) => worker.legs.has(engine.legOf(leg).id))!
    const victim = workerOf(a)
    assert.notEqual(workerOf(c), victim, 'the two calls live in different workers')
    const doomed = engine.bridge(a, b) as MediaBridge & { settled(): Promise<void> }
    const other = engine.bridge(c, d) as MediaBridge & { settled(): Promise<void> }
    const ended: Array<[string, BridgeEndReason]> = []
    doomed.onEnded((reason) => ended.push(['doomed', reason]))
    other.onEnded((reason) => ended.push(['other', reason]))
    await Promise.all([doomed.settled(), other.settled()])
    pa.play(a.localPort, 0x0a)
    pc.play(c.localPort, 0x0c)
    await waitFor('audio in both calls', () => pb.count(0x0a) > 10 && pd.count(0x0c) > 10)

    const pid = victim.pid!
    const hog = victim.request({ op: 'exhaustMemory' }).catch((error: Error) => error)
    await waitFor('the doomed call ended', () => ended.length > 0, 20_000)
    assert.deepEqual(ended, [['doomed', 'media_failed']])
    assert.instanceOf(await hog, Error, 'the hog never answers: its worker died')
    const exit = events.find((event) => event.kind === 'exited' && event.pid === pid)
    assert.exists(exit, 'the worker exited')
    // V8 aborts at its heap limit (SIGABRT; exit code 134 where a shell stands between)
    assert.isTrue(
      exit!.kind === 'exited' && (exit!.signal === 'SIGABRT' || exit!.code === 134),
      `out of memory, not another death: ${JSON.stringify(exit)}`
    )

    const before = pd.count(0x0c)
    await waitFor('the other call still relays', () => pd.count(0x0c) > before + 20)
    assert.deepEqual(ended, [['doomed', 'media_failed']], 'the other call did not end')
    await waitFor(
      'the worker back',
      () => victim.alive && victim.pid !== pid && victim.figures !== null,
      20_000
    )
    other.close()
    await other.settled()
    await Promise.all([a, b, c, d].map((leg) => leg.close()))
    await waitFor('every leg closed', () => engine.openLegs === 0)

    // A crash is told as one; the workers' ends when the engine closes (the process stops) are
    // expected ends (logged as info by the calls provider, not as errors)
    assert.isFalse(exit!.kind === 'exited' && exit!.closing)
    const seen = events.length
    await engine.close()
    const closed = events.slice(seen).filter((event) => event.kind === 'exited')
    assert.lengthOf(closed, 2)
    assert.isTrue(closed.every((event) => event.kind === 'exited' && event.closing))
  })
})
