import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import WebSocket from 'ws'
import SipDeviceService from '#calls/services/sip_device_service'
import { configuredRealm } from '#calls/signalling/registrar_settings'
import CallRecord from '#calls/models/call_record'
import ActiveCallLeg from '#calls/models/active_call_leg'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { freePort, startSipp, type SippProcess } from '#tests/support/sip_peers'
import { probeInvite, startServer, until, type SipAnswer } from '#tests/support/server_process'
import { routeAllCallsTo } from '#tests/support/calls'

/**
 * SIGTERM with the real server process (bin/server.ts) on the test database: new INVITEs get 503
 * with Retry-After, a running call (sipp phone → server → sipp carrier) may finish by itself or is
 * ended with BYE on both legs after CALL_DRAIN_SECONDS, its CDR closed as system_shutdown, and the
 * process exits 0, also while a web phone's SIP WebSocket is open. The local carrier of
 * config/carriers.ts points at the sipp carrier (LOCAL_CARRIER_PORT).
 */

function serverEnv(
  nodeId: string,
  ports: { sip: number; http: number; carrier: number },
  drainSeconds: number
) {
  return {
    ...process.env,
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: String(ports.http),
    SIP_TRANSPORTS: 'udp,ws',
    SIP_UDP_PORT: String(ports.sip),
    SIP_WS_ALLOWED_ORIGINS: `http://127.0.0.1:${ports.http}`,
    LOCAL_CARRIER_PORT: String(ports.carrier),
    NODE_ID: nodeId,
    CALL_DRAIN_SECONDS: String(drainSeconds),
    NO_COLOR: '1',
  }
}

async function deskPhone() {
  const company = await makeCompany('active')
  const user = await makeUser('member', company)
  const { device, password } = await new SipDeviceService().create(user, 'Desk phone')
  return { username: device.sipUsername, password }
}

async function carrierPeer() {
  return startSipp({
    scenario: 'carrier_answer_echo.xml',
    transport: 'u1',
    timeoutSeconds: 60,
    traceMessages: true,
    extraArgs: ['-aa', '-rtp_echo'],
  })
}

async function phonePeer(
  scenario: string,
  sipPort: number,
  phone: { username: string; password: string },
  callee: string,
  pauseMs = 0
) {
  return startSipp({
    scenario,
    transport: 'u1',
    target: `127.0.0.1:${sipPort}`,
    localIp: '127.0.0.2',
    timeoutSeconds: 60,
    traceMessages: true,
    keys: { domain: configuredRealm(), callee },
    extraArgs: [
      '-auth_uri',
      `${callee}@127.0.0.1:${sipPort}`,
      '-d',
      String(pauseMs),
      '-s',
      phone.username,
      '-au',
      phone.username,
      '-ap',
      phone.password,
    ],
  })
}

/** The answered call of this node, once its carrier leg is persisted. */
function answeredCall(nodeId: string, peers: Record<string, SippProcess>, stderr: () => string) {
  return until('the answered call', 20_000, async () => {
    const answered = await CallRecord.query()
      .where('node_id', nodeId)
      .whereNotNull('answered_at')
      .first()
    return answered && (await ActiveCallLeg.findBy('call_record_id', answered.id)) ? answered : null
  }).catch((error) => {
    const logs = Object.entries(peers).map(
      ([name, peer]) => `${name}: ${peer.messages().slice(-2000)}`
    )
    throw new Error([error.message, `server: ${stderr()}`, ...logs].join('\n'))
  })
}

async function expectExit(sipp: SippProcess, assert: { equal: Function }) {
  const outcome = await sipp.done
  assert.equal(outcome.code, 0, `${sipp.describe(outcome)}\n${sipp.messages().slice(-3000)}`)
}

test.group('B2BUA: SIGTERM drain', () => {
  test('new INVITEs get 503, the running call is ended with BYE on both legs after CALL_DRAIN_SECONDS, the process exits 0', async ({
    assert,
    cleanup,
  }) => {
    const nodeId = 'ops-drain-node'
    const drainSeconds = 3
    await routeAllCallsTo(['local'])
    const phone = await deskPhone()
    const carrier = await carrierPeer()
    cleanup(() => carrier.stop())
    const ports = { sip: await freePort('udp'), http: await freePort('tcp'), carrier: carrier.port }
    const server = await startServer(serverEnv(nodeId, ports, drainSeconds), ports.sip)
    cleanup(() => {
      server.child.kill('SIGKILL')
    })
    const caller = await phonePeer('phone_call_until_bye.xml', ports.sip, phone, '+4930555100')
    cleanup(() => caller.stop())
    const record = await answeredCall(nodeId, { carrier, caller }, server.stderr)

    // A web phone's SIP WebSocket: open sockets must neither stop the drain nor keep the process alive.
    const webPhone = new WebSocket(`ws://127.0.0.1:${ports.http}/sip`, ['sip'], {
      origin: `http://127.0.0.1:${ports.http}`,
    })
    await new Promise((resolve, reject) => webPhone.once('open', resolve).once('error', reject))
    const webPhoneClosed = new Promise<number>((resolve) =>
      webPhone.once('close', (code) => resolve(code))
    )

    const signalledAt = DateTime.utc()
    server.child.kill('SIGTERM')

    // Until the signal is handled the node may still challenge (401); then it refuses with 503.
    const refused = await until<SipAnswer>('a 503 to a new INVITE', 5000, async () => {
      const answer = await probeInvite(ports.sip, '+4930555101', 1000)
      return answer?.status === 503 ? answer : null
    })
    assert.equal(refused.status, 503)
    assert.match(refused.headers.get('retry-after') ?? '', /^\d+$/, 'Retry-After with seconds')
    await record.refresh()
    assert.isNull(record.endedAt, 'the running call is still up while the node drains')

    await expectExit(carrier, assert)
    await expectExit(caller, assert)
    assert.include(carrier.messages(), 'BYE sip:')
    assert.match(caller.messages(), /BYE sip:\S+ SIP\/2\.0/)

    const exit = await server.exited
    assert.deepEqual(exit, { code: 0, signal: null }, server.stderr())
    assert.isAbove(await webPhoneClosed, 0, 'the server closed the web phone socket')

    await record.refresh()
    assert.equal(record.disconnectCause, 'system_shutdown')
    assert.equal(record.hungUpBy, 'system')
    assert.isNotNull(record.endedAt)
    // Timestamps are stored in whole seconds: the call lived on for the drain time after SIGTERM.
    assert.isAtLeast(record.endedAt!.toMillis(), signalledAt.toMillis() + (drainSeconds - 1) * 1000)
    assert.isNull(await ActiveCallLeg.findBy('call_record_id', record.id))
  }).timeout(120_000)

  test('SIGTERM with a ringing call whose peers have vanished: exit within CALL_DRAIN_SECONDS + 5 s, CDR closed', async ({
    assert,
    cleanup,
  }) => {
    const nodeId = 'ops-drain-vanished-node'
    const drainSeconds = 2
    await routeAllCallsTo(['local'])
    const phone = await deskPhone()
    // The carrier rings and exits; the phone exits after the 180 without CANCEL: nobody answers
    // our CANCEL, our 503 or their retransmissions any more.
    const carrier = await startSipp({
      scenario: 'carrier_ring_then_vanish.xml',
      transport: 'u1',
      timeoutSeconds: 30,
      traceMessages: true,
    })
    cleanup(() => carrier.stop())
    const ports = { sip: await freePort('udp'), http: await freePort('tcp'), carrier: carrier.port }
    const server = await startServer(serverEnv(nodeId, ports, drainSeconds), ports.sip)
    cleanup(() => {
      server.child.kill('SIGKILL')
    })
    const caller = await phonePeer('phone_call_then_vanish.xml', ports.sip, phone, '+4930555104')
    cleanup(() => caller.stop())
    await expectExit(carrier, assert)
    await expectExit(caller, assert)
    const record = await until('the ringing call', 10_000, async () =>
      CallRecord.query().where('node_id', nodeId).first()
    )

    const signalledAt = Date.now()
    server.child.kill('SIGTERM')
    const deadline = (drainSeconds + 5) * 1000
    const exit = await Promise.race([
      server.exited,
      new Promise<'still running'>((resolve) =>
        setTimeout(() => resolve('still running'), deadline + 30_000)
      ),
    ])
    const tookMs = Date.now() - signalledAt
    assert.deepEqual(exit, { code: 0, signal: null }, server.stderr())
    // A deadline of the product (process supervisors SIGKILL after 30 s), not a performance figure.
    assert.isBelow(tookMs, deadline, `exit took ${tookMs} ms: ${server.stderr()}`)
    await record.refresh()
    assert.equal(record.disconnectCause, 'system_shutdown')
    assert.isNotNull(record.endedAt)
  }).timeout(120_000)

  test('a call that ends by itself during the drain lets the process exit at once', async ({
    assert,
    cleanup,
  }) => {
    const nodeId = 'ops-drain-short-node'
    // Far longer than the test may take: the process must not wait for this deadline.
    const drainSeconds = 600
    await routeAllCallsTo(['local'])
    const phone = await deskPhone()
    const carrier = await carrierPeer()
    cleanup(() => carrier.stop())
    const ports = { sip: await freePort('udp'), http: await freePort('tcp'), carrier: carrier.port }
    const server = await startServer(serverEnv(nodeId, ports, drainSeconds), ports.sip)
    cleanup(() => {
      server.child.kill('SIGKILL')
    })
    // The phone hangs up 4 s after the answer.
    const caller = await phonePeer('phone_call_out.xml', ports.sip, phone, '+4930555102', 4000)
    cleanup(() => caller.stop())
    const record = await answeredCall(nodeId, { carrier, caller }, server.stderr)

    server.child.kill('SIGTERM')
    const refused = await until<SipAnswer>('a 503 to a new INVITE', 5000, async () => {
      const answer = await probeInvite(ports.sip, '+4930555103', 1000)
      return answer?.status === 503 ? answer : null
    })
    assert.equal(refused.headers.has('retry-after'), true)

    await expectExit(caller, assert)
    await expectExit(carrier, assert)
    const exit = await Promise.race([
      server.exited,
      new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), 20_000)),
    ])
    assert.deepEqual(
      exit,
      { code: 0, signal: null },
      `20 s after the last call ended: ${server.stderr()}`
    )

    await record.refresh()
    assert.equal(record.disconnectCause, 'answered_normal')
    assert.equal(record.hungUpBy, 'caller')
  }).timeout(120_000)
})
