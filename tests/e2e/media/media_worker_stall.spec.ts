import { test } from '@japa/runner'
import { fork, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import WeriftMediaEngine from '#media/werift_media_engine'
import WorkerMediaEngine from '#media/worker/worker_media_engine'
import type { MediaEngine } from '#media/types'

/*
 * The main loop may stall (a slow template, synchronous SQLite, a long GC): relayed media must
 * not. A call's two RTP legs relay between the peers of rtp_delay_peer.ts (a process of their own
 * that times each packet from its send to its arrival); meanwhile the test process (the engine's
 * main process) busy-loops for 200 ms. With the media in worker processes no packet is delayed by
 * 100 ms or more. STALL_TEST_MEDIA_WORKERS=0 runs the same test on the in-process engine, where
 * it fails (every packet of the stall waits for the loop).
 */

const WORKERS = Number(process.env.STALL_TEST_MEDIA_WORKERS ?? 2)

function engineUnderTest(): MediaEngine {
  const config = {
    announcedIps: ['127.0.0.1'],
    webrtcPorts: [52_400, 52_599] as [number, number],
    rtpPorts: [52_600, 52_799] as [number, number],
    mediaTimeoutSeconds: 10,
  }
  return WORKERS > 0
    ? new WorkerMediaEngine({ ...config, workers: WORKERS })
    : new WeriftMediaEngine(config)
}

function peerSdp(port: number) {
  return [
    'v=0',
    'o=peer 1 1 IN IP4 127.0.0.1',
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=audio ${port} RTP/AVP 8`,
    'a=rtpmap:8 PCMA/8000',
    'a=sendrecv',
    '',
  ].join('\r\n')
}

interface Report {
  sent: number
  received: number
  maxDelayMs: number | null
  delays: number[]
}

function ask<T>(peer: ChildProcess, message: object): Promise<T> {
  const answer = once(peer, 'message') as Promise<[T]>
  peer.send(message)
  return answer.then(([value]) => value)
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

test.group('Media engine: a stalled main loop', () => {
  test('a 200 ms busy loop in the main process delays no relayed packet by 100 ms or more', async ({
    assert,
    cleanup,
  }) => {
    const engine = engineUnderTest()
    cleanup(() => engine.close())
    if (engine instanceof WorkerMediaEngine) await engine.started()
    const peer = fork(fileURLToPath(new URL('./rtp_delay_peer.ts', import.meta.url)), [], {
      execArgv: ['--import', '@poppinss/ts-exec'],
    })
    cleanup(() => {
      if (peer.connected) peer.send({ stop: true })
    })
    const [{ ports }] = (await once(peer, 'message')) as [{ ports: { tx: number; rx: number } }]

    const from = await engine.createRtpLeg()
    const to = await engine.createRtpLeg({ near: from })
    await from.createOffer({ codecs: ['PCMA'], dtmf: false })
    await from.applyAnswer(peerSdp(ports.tx))
    await to.createOffer({ codecs: ['PCMA'], dtmf: false })
    await to.applyAnswer(peerSdp(ports.rx))
    const bridge = engine.bridge(from, to)
    cleanup(() => bridge.close())

    peer.send({ start: from.localPort })
    await sleep(1000)
    const flowing = await ask<Report>(peer, { report: true })
    assert.isAbove(flowing.received, 10, 'media flows before the stall')

    const until = performance.now() + 200
    while (performance.now() < until) {
      // the main process is busy: no timers, no I/O callbacks
    }
    await sleep(600)

    const report = await ask<Report>(peer, { report: true })
    assert.isAbove(report.received, flowing.received + 20, 'media went on flowing')
    assert.isAtLeast(report.received, report.sent - 3, 'nothing lost but what is in flight')
    const worst = Math.max(...report.delays)
    assert.isBelow(
      worst,
      100,
      `the worst relayed packet took ${worst.toFixed(1)} ms (${WORKERS} workers; delays over 20 ms: ${report.delays
        .filter((delay) => delay > 20)
        .map((delay) => delay.toFixed(0))
        .join(', ')})`
    )
  }).timeout(30_000)
})
