import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import { Redis } from 'ioredis'
import { SystemClock } from '#sip'
import AuthFailureLimiter from '#sip/registrar/auth_failure_limiter'
import type { Binding } from '#sip/registrar/binding'
import { configuredRealm, registrarSettings } from '#calls/signalling/registrar_settings'
import { sipSubjectParts, userSubject } from '#calls/signalling/sip_subject'
import FrontFlowClosures from '#calls/b2bua/front_flow_closures'
import { makeCompany } from '#tests/support/accounts'
import { completedCdr, loopbackCarriers, ourNumber, startB2bua } from '#tests/support/calls'
import { freePort, startSipp, type SippProcess } from '#tests/support/sip_peers'
import { alawToneWav } from '#tests/support/rtp_capture'
import CallRecord from '#calls/models/call_record'
import { localPort, removeBindings, sipStack, sleep } from '#tests/support/sip_test_stack'
import { redisConfigured, redisConnectionOptions } from '#tests/support/redis'
import { desk, type Desk } from '#tests/e2e/calls/desk_phones'
import { carrierCalls, expectExit } from '#tests/e2e/calls/b2bua_races_peers'

/**
 * The node behind a SIP front (Kamailio), with sipp playing the front: it sits on 127.0.0.40,
 * the address .env.test lists in SIP_TRUSTED_FRONTS, forwards REGISTERs with Path, Supported:
 * path and X-FluffyCall-Source naming the device, and relays the node's requests to it. 127.0.0.41
 * is a peer that is no front: its header counts for nothing.
 */

const FRONT = '127.0.0.40'
const NOT_A_FRONT = '127.0.0.41'

async function limiter() {
  return new AuthFailureLimiter(await app.container.make('counters'), registrarSettings().lockout)
}

/** The front forwards a REGISTER of `who` naming `client`; `refused` expects 401 after the digest. */
async function throughFront(
  who: { username: string; password: string },
  client: string,
  options: { from?: string; pathPort?: number; refused?: boolean; calls?: number } = {}
) {
  const stack = await sipStack()
  const sipp = await startSipp({
    scenario: options.refused ? 'front_register_refused.xml' : 'front_register.xml',
    transport: 'u1',
    target: `127.0.0.1:${localPort(stack, 'udp')}`,
    localIp: options.from ?? FRONT,
    calls: options.calls,
    keys: { domain: configuredRealm(), client, path_port: String(options.pathPort ?? 5060) },
    extraArgs: [
      '-s',
      who.username,
      '-au',
      who.username,
      '-ap',
      who.password,
      ...(options.calls ? ['-l', '1'] : []),
    ],
    timeoutSeconds: 20,
    traceMessages: true,
  })
  const outcome = await sipp.done
  return { code: outcome.code, describe: `${sipp.describe(outcome)}\n${sipp.messages()}` }
}

async function bindingsOf(phone: Desk): Promise<Binding[]> {
  const stack = await sipStack()
  return (await stack.bindingsOfSubject(userSubject(phone.user.id))).filter(
    (binding) => sipSubjectParts(binding.subject)?.deviceId === phone.deviceId
  )
}

test.group('Behind a SIP front: Path and the real source', (group) => {
  const cleanups: Array<() => unknown> = []
  group.each.teardown(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  test("a device registered through the front is called through it: the carrier's call goes to the Path's first hop with the Path as Route, ACK and BYE follow the front's Record-Route", async ({
    assert,
  }) => {
    await startB2bua()
    const stack = await sipStack()
    // The loopback carrier: calls from 127.0.0.1 are its calls to our numbers.
    const carrier = await startSipp({
      scenario: 'carrier_answer_echo.xml',
      transport: 'u1',
      timeoutSeconds: 60,
      extraArgs: ['-rtp_echo'],
    })
    cleanups.push(carrier.stop, await loopbackCarriers({ trunk: carrier.port }))
    const company = await makeCompany('active')
    const phone = await desk(company)
    const number = `+4930404${String(Math.floor(Math.random() * 900) + 100)}`
    await ourNumber(number, 'trunk', company, phone.user.id)

    // The front's side of the call listens on the port its Path names, not the REGISTER's.
    const relayPort = await freePort('udp', FRONT)
    const relay: SippProcess = await startSipp({
      scenario: 'front_device_answer.xml',
      transport: 'u1',
      localIp: FRONT,
      port: relayPort,
      timeoutSeconds: 30,
      traceMessages: true,
    })
    cleanups.push(relay.stop)

    const registered = await throughFront(phone, 'udp:198.51.100.7:5062', { pathPort: relayPort })
    assert.equal(registered.code, 0, registered.describe)
    assert.match(
      registered.describe,
      new RegExp(`^Path: <sip:127\\.0\\.0\\.40:${relayPort};lr>`, 'm')
    )
    const [binding] = await bindingsOf(phone)
    cleanups.push(() => removeBindings(stack, [binding]))
    assert.deepEqual(binding.path, [`<sip:${FRONT}:${relayPort};lr>`])
    assert.equal(binding.flow, 'udp:198.51.100.7:5062')
    assert.equal(binding.source.host, FRONT)
    assert.notEqual(binding.source.port, relayPort)

    const caller = await carrierCalls(number, 'race_carrier_calls_in.xml')
    cleanups.push(caller.stop)
    await expectExit(caller, 0, assert)
    await expectExit(relay, 0, assert)
    const messages = relay.messages()
    assert.match(
      messages,
      new RegExp(`^INVITE sip:${phone.username}@device\\.invalid SIP/2\\.0`, 'm')
    )
    // The node's Contact is its own address, where the front's in-dialog requests reach it.
    assert.match(
      messages,
      new RegExp(`^Contact: <sip:[^@>]*@?127\\.0\\.0\\.1:${localPort(stack, 'udp')}`, 'm')
    )
    assert.match(messages, /^BYE sip:phone@198\.51\.100\.7:5062 SIP\/2\.0/m)
    assert.notInclude(messages.toLowerCase(), 'x-fluffycall-source')
    const record = await completedCdr()
    assert.equal(record.calleeNumber, number)
    assert.isNotNull(record.answeredAt)
  }).timeout(60_000)

  test('a browser behind the front (its flow there is wss) is offered WebRTC media, through the Path', async ({
    assert,
  }) => {
    await startB2bua()
    const stack = await sipStack()
    cleanups.push(await loopbackCarriers({ trunk: await freePort('udp') }))
    const company = await makeCompany('active')
    const browser = await desk(company)
    const number = `+4930406${String(Math.floor(Math.random() * 900) + 100)}`
    await ourNumber(number, 'trunk', company, browser.user.id)
    const relayPort = await freePort('udp', FRONT)
    const relay = await startSipp({
      scenario: 'front_device_webrtc_offer.xml',
      transport: 'u1',
      localIp: FRONT,
      port: relayPort,
      timeoutSeconds: 30,
      traceMessages: true,
    })
    cleanups.push(relay.stop)
    const registered = await throughFront(browser, 'wss:[2001:db8::9]:40003', {
      pathPort: relayPort,
    })
    assert.equal(registered.code, 0, registered.describe)
    cleanups.push(async () => removeBindings(stack, await bindingsOf(browser)))
    const caller = await carrierCalls(number, 'race_carrier_call_refused.xml')
    cleanups.push(caller.stop)
    await expectExit(relay, 0, assert)
    await expectExit(caller, 0, assert)
  }).timeout(60_000)

  test('auth lockouts: a header from a peer that is no front is ignored (its own address is locked); behind the front the real source is locked, another client behind it still registers', async ({
    assert,
  }) => {
    const stack = await sipStack()
    const { lockout } = registrarSettings()
    const company = await makeCompany('active')
    const guessed = await desk(company)
    const otherGuessed = await desk(company)
    const office = await desk(company)
    const guesser = '198.51.100.66'
    const scanner = '198.51.100.77'
    cleanups.push(async () => {
      const locks = await limiter()
      for (const address of [NOT_A_FRONT, FRONT, guesser, scanner])
        await locks.lift('source', address)
      await removeBindings(stack, await bindingsOf(office))
    })

    const wrong = (phone: Desk) => ({ username: phone.username, password: `${phone.password}-old` })
    const outsider = await throughFront(wrong(guessed), `udp:${guesser}:5062`, {
      from: NOT_A_FRONT,
      refused: true,
      calls: lockout.sourceMaxFailures,
    })
    assert.equal(outsider.code, 0, outsider.describe)
    const locks = await limiter()
    assert.isTrue(await locks.isScopeLocked('source', NOT_A_FRONT), 'the packet source is locked')
    assert.isFalse(await locks.isScopeLocked('source', guesser), 'the claimed source is not')

    const behind = await throughFront(wrong(otherGuessed), `udp:${scanner}:5062`, {
      refused: true,
      calls: lockout.sourceMaxFailures,
    })
    assert.equal(behind.code, 0, behind.describe)
    assert.isTrue(await locks.isScopeLocked('source', scanner), 'the real source is locked')
    assert.isFalse(await locks.isScopeLocked('source', FRONT), 'the front is not')

    const colleague = await throughFront(office, 'udp:198.51.100.78:5062')
    assert.equal(
      colleague.code,
      0,
      `another client behind the front registers: ${colleague.describe}`
    )
    const [binding] = await bindingsOf(office)
    assert.equal(binding.flow, 'udp:198.51.100.78:5062')
    const locked = await throughFront(office, `udp:${scanner}:5062`, { refused: true })
    assert.equal(
      locked.code,
      0,
      `the locked source is refused even with the right password: ${locked.describe}`
    )
  }).timeout(60_000)
})

test.group('Behind a SIP front: a caller is judged by its own transport', (group) => {
  const cleanups: Array<() => unknown> = []
  group.each.teardown(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  /** The phone calls out from `from`, naming `client`; resolves with the call's CDR. */
  async function callOut(phone: Desk, from: string, client: string) {
    const stack = await sipStack()
    const server = `127.0.0.1:${localPort(stack, 'udp')}`
    const callee = '+4940123456'
    const call = await startSipp({
      scenario: 'front_phone_call_out.xml',
      transport: 'u1',
      target: server,
      localIp: from,
      timeoutSeconds: 25,
      traceMessages: true,
      keys: { domain: configuredRealm(), callee, client },
      extraArgs: [
        '-auth_uri',
        `${callee}@${server}`,
        '-d',
        '500',
        '-s',
        phone.username,
        '-au',
        phone.username,
        '-ap',
        phone.password,
      ],
    })
    cleanups.push(call.stop)
    return call
  }

  test('a caller the front names as TLS counts as encrypted signalling in the CDR; the same header from a peer that is no front does not', async ({
    assert,
  }) => {
    await startB2bua()
    const carrier = await startSipp({
      scenario: 'carrier_answer_echo.xml',
      transport: 'u1',
      timeoutSeconds: 60,
      calls: 2,
      extraArgs: ['-rtp_echo'],
    })
    cleanups.push(carrier.stop, await loopbackCarriers({ trunk: carrier.port }))
    const company = await makeCompany('active')
    const phone = await desk(company)

    const behind = await callOut(phone, FRONT, 'tls:198.51.100.7:5061')
    await expectExit(behind, 0, assert)
    const throughFrontRecord = await completedCdr()
    assert.isTrue(throughFrontRecord.callerSignallingEncrypted, 'the phone spoke TLS to the front')

    const outside = await callOut(phone, NOT_A_FRONT, 'tls:198.51.100.7:5061')
    await expectExit(outside, 0, assert)
    const outsideRecord = await completedCdr()
    assert.notEqual(outsideRecord.uuid, throughFrontRecord.uuid)
    assert.isFalse(
      outsideRecord.callerSignallingEncrypted,
      'plain UDP: the header counts for nothing'
    )
  }).timeout(60_000)
})

test.group('Behind a SIP front: a WebSocket closed at the front (Redis)', (group) => {
  const cleanups: Array<() => unknown> = []
  group.each.teardown(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  test('publishing the flow on <REDIS_PREFIX>front:flow-closed removes its bindings at once, on the store every node shares', async ({
    assert,
  }) => {
    const stack = await sipStack()
    const b2bua = await startB2bua()
    const { default: redisConfig } = await import('#config/redis')
    const prefix = redisConfig.connections.main.keyPrefix ?? ''
    const closures = new FrontFlowClosures({
      bus: await app.container.make('redis'),
      prefix,
      removeBindings: (flow) => stack.removeFlow(flow),
      endCallsOn: (flow, how) => b2bua.endCallsOn(flow, how),
      graceSeconds: 5,
      clock: new SystemClock(),
      onError: (error) => {
        throw error
      },
    })
    closures.start()
    cleanups.push(() => closures.stop())
    const company = await makeCompany('active')
    const browser = await desk(company)
    const kept = await desk(company)
    const registered = await throughFront(browser, 'wss:198.51.100.9:40000')
    assert.equal(registered.code, 0, registered.describe)
    const other = await throughFront(kept, 'wss:198.51.100.9:40001')
    assert.equal(other.code, 0, other.describe)
    cleanups.push(async () => removeBindings(stack, await bindingsOf(kept)))
    assert.lengthOf(await bindingsOf(browser), 1)

    // The front publishes as Kamailio's event_route[websocket:closed] does (no ioredis keyPrefix).
    const front = new Redis(redisConnectionOptions())
    cleanups.push(() => front.quit())
    // The subscription may still be on its way to Redis: publish until a subscriber heard it.
    let heard = 0
    for (let tries = 0; tries < 50 && heard === 0; tries++) {
      heard = await front.publish(`${prefix}front:flow-closed`, 'wss:198.51.100.9:40000')
      if (heard === 0) await sleep(50)
    }
    assert.isAbove(heard, 0, 'a node subscribed')
    for (let tries = 0; tries < 100 && (await bindingsOf(browser)).length > 0; tries++)
      await sleep(20)
    assert.lengthOf(await bindingsOf(browser), 0, 'the closed flow lost its binding')
    assert.lengthOf(await bindingsOf(kept), 1, 'another flow at the front keeps its own')
    // Another node hearing it too: removing again is harmless.
    assert.equal(await stack.removeFlow('wss:198.51.100.9:40000'), 0)
  })
    .timeout(60_000)
    .skip(!redisConfigured, 'REDIS_HOST is not set: the front tells the nodes over Redis')

  test("a call answered behind the front ends when the front publishes its flow closed: BYE to the carrier and through the front's route to the device, the CDR says phone_disconnected", async ({
    assert,
  }) => {
    const stack = await sipStack()
    const b2bua = await startB2bua()
    const { default: redisConfig } = await import('#config/redis')
    const prefix = redisConfig.connections.main.keyPrefix ?? ''
    const closures = new FrontFlowClosures({
      bus: await app.container.make('redis'),
      prefix,
      removeBindings: (flow) => stack.removeFlow(flow),
      endCallsOn: (flow, how) => b2bua.endCallsOn(flow, how),
      // No reconnect grace here: the test is about which call ends, not when.
      graceSeconds: 0,
      clock: new SystemClock(),
      onError: (error) => {
        throw error
      },
    })
    closures.start()
    cleanups.push(() => closures.stop())
    cleanups.push(await loopbackCarriers({ trunk: await freePort('udp') }))
    const company = await makeCompany('active')
    const browser = await desk(company)
    const number = `+4930405${String(Math.floor(Math.random() * 900) + 100)}`
    await ourNumber(number, 'trunk', company, browser.user.id)
    const relayPort = await freePort('udp', FRONT)
    const relay = await startSipp({
      scenario: 'front_device_answer.xml',
      transport: 'u1',
      localIp: FRONT,
      port: relayPort,
      timeoutSeconds: 30,
      traceMessages: true,
    })
    cleanups.push(relay.stop)
    // The node does not care which transport a flow names; sipp answers plain RTP, which only a
    // client that is no browser gets (a wss flow is offered WebRTC: the test before).
    const flow = 'tcp:198.51.100.9:40002'
    const registered = await throughFront(browser, flow, { pathPort: relayPort })
    assert.equal(registered.code, 0, registered.describe)
    cleanups.push(async () => removeBindings(stack, await bindingsOf(browser)))

    const stackPort = localPort(stack, 'udp')
    const caller = await startSipp({
      scenario: 'carrier_calls_in_until_bye.xml',
      transport: 'u1',
      target: `127.0.0.1:${stackPort}`,
      timeoutSeconds: 30,
      traceMessages: true,
      files: { 'tone.wav': alawToneWav() },
      keys: { callee: number },
    })
    cleanups.push(caller.stop)
    // Answered on both sides: the relay has sent its 200 and taken the ACK, and the carrier has
    // its 200 (the B2BUA ACKs the device first and answers the carrier once the CDR says answered:
    // a flow closed in between ends the call before the carrier's answer, rightly with a 480).
    const answered = () =>
      /^ACK /m.test(relay.messages()) && /^SIP\/2\.0 200 /m.test(caller.messages())
    for (let tries = 0; tries < 200 && !answered(); tries++) await sleep(25)
    assert.isTrue(answered(), 'the call was answered behind the front and towards the carrier')

    const front = new Redis(redisConnectionOptions())
    cleanups.push(() => front.quit())
    assert.isAbove(await front.publish(`${prefix}front:flow-closed`, flow), 0, 'a node subscribed')
    await expectExit(relay, 0, assert)
    await expectExit(caller, 0, assert)
    assert.lengthOf(await bindingsOf(browser), 0)
    const record = await CallRecord.query()
      .where('callee_number', number)
      .orderBy('id', 'desc')
      .firstOrFail()
    assert.equal(record.disconnectCause, 'phone_disconnected')
  })
    .timeout(60_000)
    .skip(!redisConfigured, 'REDIS_HOST is not set: the front tells the nodes over Redis')
})
