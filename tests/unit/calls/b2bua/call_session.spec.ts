import { test } from '@japa/runner'
import {
  SipUri,
  type IncomingInvite,
  type SipDialog,
  type SipRequest,
  type SipResponse,
} from '#sip'
import FakeClock from '#sip/clock/fake_clock'
import CallSession, {
  CallPhase,
  type CallSessionServices,
  type CallTarget,
  type CdrWriter,
} from '#calls/b2bua/call_session'
import { sdp } from '#calls/b2bua/carrier_request'
import type { CdrEnd } from '#calls/b2bua/cdr_service'
import type CallRecord from '#calls/models/call_record'
import LoopbackNetwork from '#tests/unit/calls/sip/support/loopback_network'
import { createCore } from '#tests/unit/calls/sip/support/phone_pair'
import { FakeMediaEngine, audioSdp } from '#tests/unit/calls/b2bua/support/fake_media'

/**
 * The call phases of the B2BUA's CallSession on the in-memory SIP network the stack's own tests
 * use, with the fake clock: every timer of the session (trying, ring limit) runs on it, the media
 * engine and the CDR store are fakes behind their ports. A phone calls out through the B2BUA to
 * one or two carriers.
 */

const PHONE = '192.0.2.1'
const B2BUA = '192.0.2.3'
const CARRIER = '192.0.2.2'
const SECOND_CARRIER = '192.0.2.4'
const OUTBOUND_RING_LIMIT_MS = 60_000

type Carrier = { invites: IncomingInvite[]; dialog?: SipDialog }

function callSetup() {
  const clock = new FakeClock()
  const network = new LoopbackNetwork(clock, 10)
  const phone = createCore(network, PHONE, 'phone').core
  const b2bua = createCore(network, B2BUA, 'b2bua').core
  const media = new FakeMediaEngine()
  const cdr = {
    answered: 0,
    ends: [] as CdrEnd[],
    qualities: [] as Array<Parameters<CdrWriter['quality']>[1]>,
    /** While set, writing the answer waits for it (a slow commit). */
    hold: undefined as Promise<void> | undefined,
    /** While set, keeping the dialogs waits for it. */
    legsHold: undefined as Promise<void> | undefined,
    /** While set, writing the answer fails with it (the database out of reach). */
    answerError: undefined as Error | undefined,
    /** What the session reported as out of capacity. */
    capacity: [] as string[],
  }
  /** The kept dialogs (the last persist): the carriers' and the users' phones'. */
  const persisted: string[] = []
  const userLegs: string[] = []
  const phases: CallPhase[] = []
  let session: CallSession | undefined

  const writer: CdrWriter = {
    answered: async (record: CallRecord) => {
      record.answeredAt = 'answered' as never
      await cdr.hold
      if (cdr.answerError) throw cdr.answerError
      cdr.answered += 1
    },
    forwarded: async () => {},
    encryption: () => {},
    endToEndEncrypted: () => {},
    quality: (_record, sides) => {
      cdr.qualities.push(sides)
    },
    end: async (_record: CallRecord, end: CdrEnd) => {
      cdr.ends.push(end)
    },
  } as CdrWriter
  const services: CallSessionServices = {
    core: b2bua,
    media,
    clock,
    cdr: writer,
    log: () => {},
    tryingTimeoutMs: 2000,
    mediaTimeoutSeconds: 30,
    // As B2bua: the answer with the dialogs to keep, the end with the kept dialogs' removal
    answer: async (record, legs) => {
      await writer.answered(record)
      await services.persist(record, legs)
    },
    close: (record, end) => writer.end(record, end),
    persist: async (_record, legs) => {
      await cdr.legsHold
      persisted.length = 0
      userLegs.length = 0
      for (const { dialog, party } of legs) {
        if (party === 'carrier') persisted.push(dialog.callId)
        else userLegs.push(dialog.callId)
      }
    },
    forget: async () => {},
    ended: () => {},
    outOfCapacity: (resource) => cdr.capacity.push(resource),
    retryAfterSeconds: 30,
    outboundRingLimitMs: OUTBOUND_RING_LIMIT_MS,
    durationWarningMs: 30_000,
  }

  /** A carrier that rings at once; `answerAfterMs` null never answers, a number ≥ 300 rejects with it. */
  function carrier(
    host: string,
    behaviour: { answerAfterMs?: number | null; rejectWith?: number } = {}
  ): Carrier {
    const state: Carrier = { invites: [] }
    const core = createCore(network, host, `carrier${host.at(-1)}`).core
    core.setInviteHandler((invite) => {
      state.invites.push(invite)
      if (behaviour.rejectWith) {
        invite.reject(behaviour.rejectWith)
        return
      }
      invite.progress(180)
      const after = behaviour.answerAfterMs === undefined ? 1000 : behaviour.answerAfterMs
      if (after !== null) {
        clock.setTimeout(() => {
          state.dialog = invite.accept({ description: sdp(audioSdp(50_000, ['PCMA'])) })
        }, after)
      }
    })
    return state
  }

  function target(host: string): CallTarget {
    return {
      label: host,
      carrierName: host,
      carrier: true,
      codecs: ['PCMA', 'PCMU'],
      createLeg: async () => media.leg(),
      inviteOptions: (offer) => ({
        uri: SipUri.parse(`sip:+4930123456@${host}`),
        description: sdp(offer),
      }),
    }
  }

  let configure: ((created: CallSession) => void) | undefined
  /** Each new session is handed here first (a gate's maximum duration). */
  function onSession(callback: (created: CallSession) => void) {
    configure = callback
  }

  /** The B2BUA takes the phone's INVITE towards these carriers, one after another. */
  function route(...hosts: string[]) {
    b2bua.setInviteHandler((invite) => {
      const record = { id: 1, uuid: 'call-1', direction: 'outbound' } as unknown as CallRecord
      session = new CallSession(services, invite, media.leg(), record)
      configure?.(session)
      void session.connectSequential(hosts.map(target))
    })
  }

  /** The phone calls out; what it hears is collected. */
  function call() {
    const heard: number[] = []
    /** How many answers the CDR store had committed when the phone got its 200. */
    const cdrAnsweredAt200: number[] = []
    /** How many dialogs were kept for crash recovery when the phone got its 200. */
    const legsAt200: number[] = []
    const phoneCall: {
      dialog?: SipDialog
      heard: number[]
      cdrAnsweredAt200: number[]
      legsAt200: number[]
    } = { heard, cdrAnsweredAt200, legsAt200 }
    const outgoing = phone.invite({
      uri: SipUri.parse(`sip:+4930123456@${B2BUA}`),
      description: sdp(audioSdp(30_000, ['PCMA', 'PCMU'])),
      delegate: {
        onProgress: (response) => heard.push(response.status),
        onAccepted: (dialog, response) => {
          heard.push(response.status)
          cdrAnsweredAt200.push(cdr.answered)
          legsAt200.push(persisted.length + userLegs.length)
          phoneCall.dialog = dialog
        },
        onRejected: (response) => heard.push(response.status),
        onCanceled: (response) => heard.push(response.status),
      },
    })
    return Object.assign(phoneCall, { cancel: () => outgoing.cancel() })
  }

  /** Virtual time passes in small steps, with the promise callbacks of each step run. */
  async function pass(ms: number) {
    for (let elapsed = 0; elapsed < ms; elapsed += 5) {
      clock.advance(5)
      await new Promise((resolve) => setImmediate(resolve))
      if (session && phases.at(-1) !== session.phase) phases.push(session.phase)
    }
  }

  const requestsTo = (host: string, method: string): SipRequest[] =>
    network.events
      .filter((event) => !event.dropped && event.to.startsWith(`${host}:`))
      .map((event) => event.message)
      .filter(
        (message): message is SipRequest =>
          'method' in message && (message as SipRequest).method === method
      )

  return {
    clock,
    network,
    media,
    cdr,
    persisted,
    userLegs,
    phases,
    carrier,
    route,
    onSession,
    call,
    pass,
    requestsTo,
    session: () => session!,
  }
}

test.group('B2BUA call phases (CallSession, in-memory network, fake clock)', () => {
  test('answer: 180 and 200 reach the phone, the carrier dialog is kept, the phone BYE ends both sides', async ({
    assert,
  }) => {
    const setup = callSetup()
    const carrier = setup.carrier(CARRIER)
    setup.route(CARRIER)
    const phone = setup.call()
    await setup.pass(1500)
    assert.deepEqual(phone.heard, [180, 200], setup.network.trace())
    assert.equal(setup.session().phase, CallPhase.Answered)
    assert.equal(setup.cdr.answered, 1)
    assert.deepEqual(
      setup.persisted,
      [carrier.dialog!.callId],
      'the carrier dialog, for crash recovery'
    )
    assert.lengthOf(setup.userLegs, 1, "the phone's dialog too")
    assert.notEqual(setup.userLegs[0], carrier.dialog!.callId)
    assert.lengthOf(setup.media.bridges, 1)

    phone.dialog!.bye()
    await setup.pass(200)
    assert.lengthOf(setup.requestsTo(CARRIER, 'BYE'), 1)
    assert.deepEqual(setup.phases, [
      CallPhase.Setup,
      CallPhase.Ringing,
      CallPhase.Answered,
      CallPhase.Ended,
    ])
    assert.deepEqual(setup.cdr.ends, [
      { cause: 'answered_normal', sipStatus: 200, hungUpBy: 'caller' },
    ])
    assert.equal(setup.media.openLegs, 0, 'both legs closed')
  })

  test('the call quality of each side goes on the CDR before it closes: loss, jitter, MOS', async ({
    assert,
  }) => {
    const setup = callSetup()
    setup.carrier(CARRIER)
    setup.route(CARRIER)
    const phone = setup.call()
    await setup.pass(1500)
    const [phoneLeg, carrierLeg] = setup.media.legs
    phoneLeg.quality = { ...phoneLeg.quality, packetsExpected: 500, jitterMs: 2 }
    carrierLeg.quality = {
      ...carrierLeg.quality,
      packetsExpected: 500,
      packetsLost: 25,
      lossFraction: 0.05,
      jitterMs: 4,
      rttMs: 30,
    }
    phone.dialog!.bye()
    await setup.pass(200)
    assert.lengthOf(setup.cdr.qualities, 1)
    const { caller, callee } = setup.cdr.qualities[0]
    assert.equal(caller!.lossPercent, 0)
    assert.equal(callee!.lossPercent, 5)
    assert.equal(callee!.jitterMs, 4)
    assert.equal(callee!.rttMs, 30)
    assert.isNull(caller!.rttMs)
    // A desk phone and a carrier: no packet loss concealment assumed (G.711 Bpl 4.3)
    assert.isAbove(caller!.mos, 4.3)
    assert.isBelow(callee!.mos, 2.5)
  })

  test('the phone gets its 200 only once the write of {$self} is done')
    .with(['the answer', 'the kept dialogs'])
    .run(async ({ assert }, held) => {
      const setup = callSetup()
      let commit!: () => void
      const hold = new Promise<void>((resolve) => (commit = resolve))
      if (held === 'the answer') setup.cdr.hold = hold
      else setup.cdr.legsHold = hold
      setup.carrier(CARRIER)
      setup.route(CARRIER)
      const phone = setup.call()
      await setup.pass(1500)
      assert.deepEqual(phone.heard, [180], `no 200 while ${held} is being written`)
      commit()
      await setup.pass(100)
      assert.deepEqual(phone.heard, [180, 200])
      assert.deepEqual(phone.cdrAnsweredAt200, [1])
      // The phone's dialog went with the answer, made ahead of its 200 (issue 17)
      assert.deepEqual(phone.legsAt200, [2])
      assert.deepEqual(setup.userLegs, [phone.dialog!.callId])
      assert.equal(setup.session().phase, CallPhase.Answered)
    })

  test('CANCEL while the answer is written: 487 to the phone, BYE to the carrier, the CDR shows no answer', async ({
    assert,
  }) => {
    const setup = callSetup()
    let commit!: () => void
    setup.cdr.hold = new Promise((resolve) => (commit = resolve))
    setup.carrier(CARRIER)
    setup.route(CARRIER)
    const phone = setup.call()
    await setup.pass(1500)
    phone.cancel()
    await setup.pass(100)
    commit()
    await setup.pass(200)
    assert.deepEqual(phone.heard, [180, 487])
    assert.lengthOf(setup.requestsTo(CARRIER, 'BYE'), 1)
    assert.deepEqual(setup.cdr.ends, [{ cause: 'cancelled', sipStatus: 487, hungUpBy: 'caller' }])
    assert.isNull(setup.session().record.answeredAt)
    assert.equal(setup.media.openLegs, 0, 'both legs closed')
  })

  test(
    '{$self} out of reach when the answer is written: 503 with Retry-After to the phone, BYE to the carrier, CDR no_capacity without an answer'
  )
    .with([
      {
        resource: 'the database',
        counted: 'database',
        error: Object.assign(
          new Error('Timeout acquiring a connection. The pool is probably full.'),
          {
            name: 'KnexTimeoutError',
          }
        ),
      },
      {
        resource: 'Redis',
        counted: 'redis',
        error: new Error('Connection is closed.'),
      },
    ])
    .run(async ({ assert }, { counted, error }) => {
      const setup = callSetup()
      setup.cdr.answerError = error
      setup.carrier(CARRIER)
      setup.route(CARRIER)
      const phone = setup.call()
      await setup.pass(1500)
      assert.deepEqual(phone.heard, [180, 503])
      const refusal = setup.network.events
        .filter((event) => !event.dropped && event.to.startsWith(`${PHONE}:`))
        .map((event) => event.message as SipResponse)
        .find((message) => message.status === 503)
      assert.equal(refusal?.headers.get('Retry-After'), '30')
      assert.lengthOf(setup.requestsTo(CARRIER, 'BYE'), 1)
      assert.deepEqual(setup.cdr.ends, [
        { cause: 'no_capacity', sipStatus: 503, hungUpBy: 'system' },
      ])
      assert.isNull(setup.session().record.answeredAt)
      assert.deepEqual(setup.cdr.capacity, [counted])
      assert.equal(setup.media.openLegs, 0, 'both legs closed')
    })

  test('CANCEL while the carrier rings: CANCEL to the carrier, 487 to the phone, CDR cancelled', async ({
    assert,
  }) => {
    const setup = callSetup()
    setup.carrier(CARRIER, { answerAfterMs: null })
    setup.route(CARRIER)
    const phone = setup.call()
    await setup.pass(500)
    assert.deepEqual(phone.heard, [180])
    phone.cancel()
    await setup.pass(200)
    assert.deepEqual(phone.heard, [180, 487])
    assert.lengthOf(setup.requestsTo(CARRIER, 'CANCEL'), 1)
    assert.equal(setup.cdr.answered, 0)
    assert.deepEqual(setup.cdr.ends, [{ cause: 'cancelled', sipStatus: 487, hungUpBy: 'caller' }])
    assert.equal(setup.session().phase, CallPhase.Ended)
  })

  test('CANCEL crossing the carrier 200: the carrier leg gets ACK and BYE, the phone 487', async ({
    assert,
  }) => {
    const setup = callSetup()
    const carrier = setup.carrier(CARRIER, { answerAfterMs: null })
    setup.route(CARRIER)
    const phone = setup.call()
    await setup.pass(500)
    // Both leave in the same instant: the B2BUA has sent its CANCEL before the 200 arrives.
    phone.cancel()
    setup.clock.setTimeout(() => {
      carrier.dialog = carrier.invites[0].accept({ description: sdp(audioSdp(50_000, ['PCMA'])) })
    }, 5)
    await setup.pass(300)
    assert.deepEqual(phone.heard, [180, 487], setup.network.trace())
    assert.lengthOf(setup.requestsTo(CARRIER, 'CANCEL'), 1)
    assert.lengthOf(setup.requestsTo(CARRIER, 'ACK'), 1)
    assert.lengthOf(setup.requestsTo(CARRIER, 'BYE'), 1)
    assert.equal(setup.cdr.answered, 0)
    assert.equal(setup.cdr.ends[0].cause, 'cancelled')
  })

  test('failover: the first carrier answers 503, the second one takes the call', async ({
    assert,
  }) => {
    const setup = callSetup()
    setup.carrier(CARRIER, { rejectWith: 503 })
    const second = setup.carrier(SECOND_CARRIER)
    setup.route(CARRIER, SECOND_CARRIER)
    const phone = setup.call()
    await setup.pass(1500)
    assert.lengthOf(setup.requestsTo(CARRIER, 'INVITE'), 1)
    assert.lengthOf(setup.requestsTo(SECOND_CARRIER, 'INVITE'), 1)
    assert.deepEqual(phone.heard, [180, 200])
    assert.deepEqual(setup.persisted, [second.dialog!.callId])
    assert.equal(
      setup.media.legs.filter((leg) => leg.closed).length,
      1,
      'the first carrier leg was closed'
    )
  })

  test('hold and resume from the phone: the carrier is re-offered sendonly, then sendrecv; nothing is relayed meanwhile', async ({
    assert,
  }) => {
    const setup = callSetup()
    setup.carrier(CARRIER)
    setup.route(CARRIER)
    const phone = setup.call()
    await setup.pass(1500)
    const bridge = setup.media.bridges[0]

    const hold = phone.dialog!.reinvite({
      description: sdp(audioSdp(30_000, ['PCMA'], 'sendonly')),
    })
    await setup.pass(200)
    assert.equal((await hold).status, 200)
    assert.match((await hold).body.toString(), /a=recvonly/, 'the phone is answered recvonly')
    const reoffers = setup.requestsTo(CARRIER, 'INVITE').slice(1)
    assert.lengthOf(reoffers, 1)
    assert.match(reoffers[0].body.toString(), /a=sendonly/)
    assert.isTrue(bridge.held.at(-1))

    const resume = phone.dialog!.reinvite({
      description: sdp(audioSdp(30_000, ['PCMA'], 'sendrecv')),
    })
    await setup.pass(200)
    assert.equal((await resume).status, 200)
    const again = setup.requestsTo(CARRIER, 'INVITE').slice(1)
    assert.lengthOf(again, 2)
    assert.match(again[1].body.toString(), /a=sendrecv/)
    assert.isFalse(bridge.held.at(-1))
    assert.equal(setup.session().phase, CallPhase.Answered)
  })

  test('media timeout: BYE to both sides, CDR media_timeout by the system', async ({ assert }) => {
    const setup = callSetup()
    setup.carrier(CARRIER)
    setup.route(CARRIER)
    setup.call()
    await setup.pass(1500)
    setup.media.bridges[0].timeOut()
    await setup.pass(100)
    assert.lengthOf(setup.requestsTo(CARRIER, 'BYE'), 1)
    assert.lengthOf(setup.requestsTo(PHONE, 'BYE'), 1)
    assert.deepEqual(setup.cdr.ends, [
      { cause: 'media_timeout', sipStatus: 200, hungUpBy: 'system' },
    ])
    assert.isTrue(setup.media.bridges[0].closed)
  })

  test('a ringing call whose carrier leg the engine lost (its media worker died): CANCEL to the carrier, 503 to the phone, CDR media_failed', async ({
    assert,
  }) => {
    const setup = callSetup()
    setup.carrier(CARRIER, { answerAfterMs: null })
    setup.route(CARRIER)
    const phone = setup.call()
    await setup.pass(500)
    assert.deepEqual(phone.heard, [180])
    const [phoneLeg, carrierLeg] = setup.media.legs
    const session = setup.session()
    assert.isTrue(session.holdsLeg(phoneLeg))
    assert.isTrue(session.holdsLeg(carrierLeg))
    assert.isFalse(session.holdsLeg(setup.media.leg()), 'another call’s leg')
    void session.mediaLost()
    await setup.pass(200)
    assert.deepEqual(phone.heard, [180, 503])
    assert.lengthOf(setup.requestsTo(CARRIER, 'CANCEL'), 1)
    assert.deepEqual(setup.cdr.ends, [
      { cause: 'media_failed', sipStatus: 503, hungUpBy: 'system' },
    ])
    assert.isTrue(phoneLeg.closed && carrierLeg.closed, 'the legs are closed')
  })

  test('a carrier that rings for ever is cancelled at the outbound ring limit, on the fake clock', async ({
    assert,
  }) => {
    const setup = callSetup()
    setup.carrier(CARRIER, { answerAfterMs: null })
    setup.route(CARRIER)
    const phone = setup.call()
    await setup.pass(OUTBOUND_RING_LIMIT_MS - 100)
    assert.deepEqual(phone.heard, [180], 'still ringing just before the limit')
    await setup.pass(300)
    assert.deepEqual(phone.heard, [180, 480])
    assert.lengthOf(setup.requestsTo(CARRIER, 'CANCEL'), 1)
    assert.deepEqual(setup.cdr.ends, [{ cause: 'no_answer', sipStatus: 480, hungUpBy: 'system' }])
  })

  test('maximum duration: the caller hears the warning tone 30 s before, then BYE to both sides, on the fake clock', async ({
    assert,
  }) => {
    const setup = callSetup()
    setup.carrier(CARRIER)
    setup.onSession((created) => created.limitDuration(60, 'max_duration'))
    setup.route(CARRIER)
    setup.call()
    await setup.pass(1500) // answered after 1 s
    const bridge = setup.media.bridges[0]
    await setup.pass(29_400)
    assert.deepEqual(bridge.tones, [], 'no tone until 30 s before the end')
    await setup.pass(200)
    assert.deepEqual(bridge.tones, [bridge.a], 'the tone goes to the caller (A) leg only')
    assert.isDefined(setup.session().warningTone)
    await setup.pass(29_800)
    assert.lengthOf(setup.requestsTo(CARRIER, 'BYE'), 0, 'still running just before 60 s')
    await setup.pass(200)
    assert.lengthOf(setup.requestsTo(CARRIER, 'BYE'), 1)
    assert.lengthOf(setup.requestsTo(PHONE, 'BYE'), 1)
    assert.deepEqual(bridge.tones, [bridge.a], 'one tone')
    assert.deepEqual(setup.cdr.ends, [
      { cause: 'max_duration', sipStatus: 200, hungUpBy: 'system' },
    ])
  })

  test('a spend cap reached while the call runs ends it sooner (never later), warning first; CDR spend_cap', async ({
    assert,
  }) => {
    const setup = callSetup()
    setup.carrier(CARRIER)
    setup.onSession((created) => created.limitDuration(600, 'max_duration'))
    setup.route(CARRIER)
    setup.call()
    await setup.pass(1500)
    const bridge = setup.media.bridges[0]
    await setup.pass(9500)
    setup.session().endWithin(8000, 'spend_cap')
    setup.session().endWithin(20_000, 'spend_cap') // a later deadline changes nothing
    await setup.pass(3900)
    assert.deepEqual(bridge.tones, [], 'a deadline shorter than the warning: tone halfway')
    await setup.pass(200)
    assert.deepEqual(bridge.tones, [bridge.a])
    await setup.pass(3800)
    assert.lengthOf(setup.requestsTo(CARRIER, 'BYE'), 0)
    await setup.pass(200)
    assert.lengthOf(setup.requestsTo(CARRIER, 'BYE'), 1)
    assert.deepEqual(setup.cdr.ends, [{ cause: 'spend_cap', sipStatus: 200, hungUpBy: 'system' }])
  })

  test('a spend cap already reached ends a running call at once', async ({ assert }) => {
    const setup = callSetup()
    setup.carrier(CARRIER)
    setup.route(CARRIER)
    setup.call()
    await setup.pass(1500)
    setup.session().endWithin(0, 'spend_cap')
    await setup.pass(50)
    assert.lengthOf(setup.requestsTo(CARRIER, 'BYE'), 1)
    assert.deepEqual(setup.cdr.ends, [{ cause: 'spend_cap', sipStatus: 200, hungUpBy: 'system' }])
  })
})
