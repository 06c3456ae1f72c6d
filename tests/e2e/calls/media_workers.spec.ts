import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import CallRecord from '#calls/models/call_record'
import { buildB2bua } from '#calls/b2bua/b2bua_factory'
import WorkerMediaEngine from '#media/worker/worker_media_engine'
import mediaConfig from '#config/media'
import { loopbackCarriers } from '#tests/support/calls'
import { until } from '#tests/support/server_process'
import {
  RtpEndpoint,
  expectExit,
  phoneFor,
  sdpPort,
  sippPhoneCall,
} from '#tests/e2e/calls/b2bua_races_peers'
import { startSipp } from '#tests/support/sip_peers'

/**
 * The media in worker processes (WorkerMediaEngine, two workers) under a B2BUA of its own, with
 * real sipp peers: a phone whose audio is the test's UDP socket, a carrier that echoes it
 * (sipp -rtp_echo). A media worker killed with SIGKILL ends only its own call (BYE to the phone
 * and the carrier, CDR closed with media_failed); the call on the other worker keeps its audio,
 * the killed worker is forked again and takes a new call. A worker stopped with SIGSTOP (hung, not
 * dead) is found by the heartbeat and killed, with the same outcome. An echo test's leg (in no
 * bridge) whose worker dies ends its call too.
 */

interface RunningCall {
  phone: RtpEndpoint
  sipp: Awaited<ReturnType<typeof sippPhoneCall>>
  uuid: string
  /** Our phone leg's port (from the 200's SDP): where the phone's audio goes. */
  legPort: number
}

/** The id of the newest CDR: CDRs of earlier test files stay in the database, only later ones count. */
async function lastCallId() {
  const newest = await CallRecord.query().max('id as last').first()
  return Number(newest?.$extras.last ?? 0)
}

/**
 * Places calls from a sipp phone whose audio is an RtpEndpoint of the test: each call resolves
 * once it is answered and the phone hears its audio come back (the carrier's -rtp_echo, or the
 * echo test).
 */
function phoneCalls(cleanups: Array<() => unknown>, lastBefore: number) {
  const known = new Set<string>()
  return async function call(number: string): Promise<RunningCall> {
    const phone = await new RtpEndpoint('127.0.0.2').open()
    cleanups.push(() => phone.close().catch(() => {}))
    const sipp = await sippPhoneCall(
      await phoneFor(),
      number,
      'phone_call_media_at_until_bye.xml',
      {
        keys: { callermedia: String(phone.port) },
        timeoutSeconds: 60,
      }
    )
    cleanups.push(sipp.stop)
    const uuid = await until(`the call to ${number} answered`, 20_000, async () => {
      const answered = await CallRecord.query()
        .where('id', '>', lastBefore)
        .where('callee_number', number)
        .whereNotNull('answered_at')
        .whereNotIn('uuid', [...known])
        .first()
      return answered?.uuid ?? null
    })
    known.add(uuid)
    const legPort = await until('the 200 at the phone', 10_000, async () =>
      sdpPort(sipp.messages(), 'SIP/2.0 200')
    )
    phone.play(legPort, 8, 0x11)
    await until(
      `the echo of ${number} back at the phone`,
      10_000,
      async () => phone.received.length > 10
    )
    return { phone, sipp, uuid, legPort }
  }
}

test.group('Media workers: a worker dies', (group) => {
  const cleanups: Array<() => unknown> = []
  group.each.teardown(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })
  group.teardown(async () => {
    // The other call tests use the container's B2BUA.
    ;(await app.container.make('calls.b2bua')).start()
  })

  test('SIGKILL of one worker ends its call cleanly (BYE both sides, CDR media_failed); the other call keeps its audio; the worker comes back and takes a new call', async ({
    assert,
  }) => {
    const media = new WorkerMediaEngine({
      ...mediaConfig,
      rtpPorts: [40_400, 40_799],
      webrtcPorts: [43_400, 43_799],
      workers: 2,
    })
    cleanups.push(() => media.close())
    await media.started()
    const b2bua = await buildB2bua(app.container, { media })
    b2bua.start()

    const carrier = await startSipp({
      scenario: 'carrier_answer_echo.xml',
      transport: 'u1',
      calls: 3,
      timeoutSeconds: 60,
      traceMessages: true,
      extraArgs: ['-rtp_echo'],
    })
    cleanups.push(carrier.stop, await loopbackCarriers({ first: carrier.port }))

    const call = phoneCalls(cleanups, await lastCallId())

    const workerOf = (running: RunningCall) =>
      media.workers.find((worker) =>
        [...worker.legs.values()].some((leg) => leg.localPort === running.legPort)
      )!

    const first = await call('+4930500001')
    const second = await call('+4930500002')
    const victim = workerOf(first)
    const survivor = workerOf(second)
    assert.notEqual(victim, survivor, 'the two calls were placed on different workers')
    assert.deepEqual(
      media.workers.map((worker) => worker.legs.size),
      [2, 2],
      'each call’s two legs in one worker'
    )

    const killedPid = victim.pid!
    process.kill(killedPid, 'SIGKILL')

    // The victim's call: BYE to the phone (its sipp exits 0 only after it) and to the carrier
    await expectExit(first.sipp, 0, assert)
    // Its phone stops talking (its leg's port may go to the next call of the restarted worker)
    await first.phone.close()
    const ended = await until('the killed call’s CDR closed', 10_000, async () => {
      const record = await CallRecord.findBy('uuid', first.uuid)
      return record?.endedAt ? record : null
    })
    assert.equal(ended.disconnectCause, 'media_failed')
    assert.equal(ended.hungUpBy, 'system')
    await until('the BYE at the carrier', 5000, async () => /^BYE /m.test(carrier.messages()))

    // The other call: still up, its audio still comes back
    const before = second.phone.received.length
    await until(
      'more echo on the surviving call',
      5000,
      async () => second.phone.received.length > before + 25
    )
    const running = await CallRecord.findBy('uuid', second.uuid)
    assert.isNull(running!.endedAt)

    // The worker is back (a new process) and takes a new call
    await until(
      'the worker restarted',
      20_000,
      async () => victim.alive && victim.pid !== killedPid && victim.figures !== null
    )
    const third = await call('+4930500003')
    assert.isAbove(third.phone.received.length, 10)

    assert.isTrue(await b2bua.end(second.uuid))
    assert.isTrue(await b2bua.end(third.uuid))
    await expectExit(second.sipp, 0, assert)
    await expectExit(third.sipp, 0, assert)
    await expectExit(carrier, 0, assert)
    for (const uuid of [second.uuid, third.uuid]) {
      const record = await CallRecord.findBy('uuid', uuid)
      assert.equal(record!.disconnectCause, 'ended_by_staff')
    }
    await until('every leg closed', 5000, async () => media.openLegs === 0)
  }).timeout(120_000)

  /** One worker on the top 200 ports of this checkout's ranges, under a B2BUA of its own. */
  async function oneWorker(options: { heartbeat?: { intervalMs: number; misses: number } } = {}) {
    const top = (range: [number, number]): [number, number] => [range[1] - 199, range[1]]
    const media = new WorkerMediaEngine({
      ...mediaConfig,
      rtpPorts: top(mediaConfig.rtpPorts),
      webrtcPorts: top(mediaConfig.webrtcPorts),
      workers: 1,
      heartbeat: options.heartbeat,
    })
    cleanups.push(() => media.close())
    await media.started()
    const b2bua = await buildB2bua(app.container, { media })
    b2bua.start()
    return { media, b2bua, worker: media.workers[0] }
  }

  async function closedRecord(uuid: string) {
    return until('the call’s CDR closed', 10_000, async () => {
      const record = await CallRecord.findBy('uuid', uuid)
      return record?.endedAt ? record : null
    })
  }

  test('a hung worker (SIGSTOP) misses its heartbeats and is killed: its call ends (BYE both sides, CDR media_failed), it restarts and takes a new call', async ({
    assert,
  }) => {
    // Hung after 3 unanswered pings 200 ms apart (5 x 1 s in production)
    const { media, b2bua, worker } = await oneWorker({ heartbeat: { intervalMs: 200, misses: 3 } })
    const carrier = await startSipp({
      scenario: 'carrier_answer_echo.xml',
      transport: 'u1',
      calls: 2,
      timeoutSeconds: 60,
      traceMessages: true,
      extraArgs: ['-rtp_echo'],
    })
    cleanups.push(carrier.stop, await loopbackCarriers({ first: carrier.port }))
    const call = phoneCalls(cleanups, await lastCallId())

    const first = await call('+4930500011')
    const stoppedPid = worker.pid!
    // Stopped, not dead: no exit, only the heartbeat can tell (SIGCONT in case the test fails first)
    cleanups.push(() => {
      try {
        process.kill(stoppedPid, 'SIGCONT')
      } catch {}
    })
    process.kill(stoppedPid, 'SIGSTOP')

    await expectExit(first.sipp, 0, assert)
    await first.phone.close()
    const ended = await closedRecord(first.uuid)
    assert.equal(ended.disconnectCause, 'media_failed')
    assert.equal(ended.hungUpBy, 'system')
    await until('the BYE at the carrier', 5000, async () => /^BYE /m.test(carrier.messages()))
    await until(
      'the worker restarted',
      20_000,
      async () => worker.alive && worker.pid !== stoppedPid && worker.figures !== null
    )
    assert.deepEqual(media.workerFigures(), {
      configured: 1,
      alive: 1,
      restarts: { crashed: 0, hung: 1 },
    })

    const second = await call('+4930500012')
    assert.isTrue(await b2bua.end(second.uuid))
    await expectExit(second.sipp, 0, assert)
    await expectExit(carrier, 0, assert)
    assert.equal((await closedRecord(second.uuid)).disconnectCause, 'ended_by_staff')
  }).timeout(90_000)

  test('the echo test (*43, a leg in no bridge) ends when its worker dies: BYE at the phone, CDR media_failed', async ({
    assert,
  }) => {
    const { media, worker } = await oneWorker()
    const call = phoneCalls(cleanups, await lastCallId())
    const echo = await call('*43')
    const record = await CallRecord.findByOrFail('uuid', echo.uuid)
    assert.equal(record.direction, 'echo_test')

    const killedPid = worker.pid!
    process.kill(killedPid, 'SIGKILL')
    await expectExit(echo.sipp, 0, assert)
    const ended = await closedRecord(echo.uuid)
    assert.equal(ended.disconnectCause, 'media_failed')
    assert.equal(ended.hungUpBy, 'system')
    await until(
      'the worker restarted',
      20_000,
      async () => worker.alive && worker.pid !== killedPid
    )
    assert.deepEqual(media.workerFigures().restarts, { crashed: 1, hung: 0 })
    await until('every leg closed', 5000, async () => media.openLegs === 0)
  }).timeout(60_000)
})
