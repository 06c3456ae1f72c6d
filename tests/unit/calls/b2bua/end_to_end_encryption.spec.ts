import { test } from '@japa/runner'
import {
  SipUri,
  type IncomingInvite,
  type IncomingRequest,
  type SipDialog,
  type SipRequest,
  type SipResponse,
} from '#sip'
import FakeClock from '#sip/clock/fake_clock'
import CallSession, {
  type CallSessionServices,
  type CallTarget,
  type CdrWriter,
  type TransferPlan,
} from '#calls/b2bua/call_session'
import { sdp } from '#calls/b2bua/carrier_request'
import {
  E2EE_CONTENT_TYPE,
  parseKeyMessage,
  tamperWithKeyExchange,
} from '#calls/b2bua/end_to_end_encryption'
import type CallRecord from '#calls/models/call_record'
import LoopbackNetwork from '#tests/unit/calls/sip/support/loopback_network'
import { createCore } from '#tests/unit/calls/sip/support/phone_pair'
import { FakeMediaEngine, audioSdp } from '#tests/unit/calls/b2bua/support/fake_media'

/**
 * The browsers' key exchange through the B2BUA (issue 22) on the in-memory SIP network with the
 * fake clock: the role header, the INFO relay between the two dialogs and its refusals, the
 * confirms that mark the CDR, the test hook, and the new pairing after a transfer. The SIP stack
 * is the real one; the media legs are fakes whose kind says browser (webrtc) or phone (rtp).
 */

const CALLER = '192.0.2.1'
/** As the SIP provider configures the app's stack (and browsers take INFO and REFER). */
const METHODS = { inDialogMethods: ['INFO', 'REFER', 'NOTIFY'] }
const B2BUA = '192.0.2.3'

type Device = {
  host: string
  invites: SipRequest[]
  dialog?: SipDialog
  /** Requests received in the dialog (INFO, NOTIFY, re-INVITE). */
  received: SipRequest[]
}

const e2eeHeader = (message: SipRequest | SipResponse) => message.headers.get('x-fluffycall-e2ee')

function keyBody(fields: Record<string, unknown>) {
  return Buffer.from(JSON.stringify(fields))
}

const PK_R = 'BOB' + 'b'.repeat(84)
const PK_I = 'ALI' + 'a'.repeat(84)

function setup(options: { callerKind?: 'webrtc' | 'rtp' } = {}) {
  const clock = new FakeClock()
  const network = new LoopbackNetwork(clock, 10)
  const caller = createCore(network, CALLER, 'caller', METHODS).core
  const b2bua = createCore(network, B2BUA, 'b2bua', METHODS).core
  const media = new FakeMediaEngine()
  const record = {
    id: 1,
    uuid: 'call-1',
    direction: 'internal',
    endToEndEncrypted: false,
  } as unknown as CallRecord
  let transferTo: CallTarget | undefined
  let session: CallSession | undefined

  const writer = {
    answered: async (answered: CallRecord) => {
      answered.answeredAt = 'answered' as never
    },
    forwarded: async () => {},
    encryption: () => {},
    endToEndEncrypted: (marked: CallRecord) => {
      marked.endToEndEncrypted = true
    },
    quality: () => {},
    end: async () => {},
  } as CdrWriter
  const services: CallSessionServices = {
    core: b2bua,
    media,
    clock,
    cdr: writer,
    log: () => {},
    tryingTimeoutMs: 2000,
    mediaTimeoutSeconds: 30,
    answer: (answered) => writer.answered(answered),
    close: async () => {},
    persist: async () => {},
    forget: async () => {},
    ended: () => {},
    outOfCapacity: () => {},
    retryAfterSeconds: 30,
    outboundRingLimitMs: 60_000,
    durationWarningMs: 30_000,
    identityDomain: 'example.test',
    transfer: async (): Promise<TransferPlan> => ({
      kind: 'targets',
      targets: [transferTo!],
      parallel: true,
      ringMs: 30_000,
      shownAs: '24',
    }),
  }

  function inDialog(peer: Device, dialog: SipDialog) {
    peer.dialog = dialog
    dialog.delegate = {
      onRequest: (incoming: IncomingRequest) => {
        peer.received.push(incoming.request)
        incoming.respond(200)
      },
      onReinvite: (incoming: IncomingRequest) => {
        peer.received.push(incoming.request)
        incoming.respond(200, { description: sdp(audioSdp(50_000, ['PCMU'])) })
      },
    }
  }

  /** A registered device that answers after 100 ms; `kind` is its leg at the B2BUA. */
  function device(host: string, kind: 'webrtc' | 'rtp'): { device: Device; target: CallTarget } {
    const state: Device = { host, invites: [], received: [] }
    const core = createCore(network, host, `device${host.at(-1)}`, METHODS).core
    core.setInviteHandler((invite: IncomingInvite) => {
      state.invites.push(invite.request)
      invite.progress(180)
      clock.setTimeout(() => {
        const dialog = invite.accept({ description: sdp(audioSdp(50_000, ['PCMU'])) })
        if (dialog) inDialog(state, dialog)
      }, 100)
    })
    const target: CallTarget = {
      label: host,
      carrier: false,
      userId: Number(host.at(-1)),
      createLeg: async () => media.leg(kind),
      inviteOptions: (offer) => ({
        uri: SipUri.parse(`sip:user@${host}`),
        description: sdp(offer),
      }),
    }
    return { device: state, target }
  }

  /** The B2BUA rings `targets` for the caller; the caller's device is a browser unless told. */
  function route(targets: CallTarget[]) {
    b2bua.setInviteHandler((invite) => {
      session = new CallSession(services, invite, media.leg(options.callerKind ?? 'webrtc'), record)
      void session.connectParallel(targets, 30_000)
    })
  }

  const callerDevice: Device & { accepted?: SipResponse } = {
    host: CALLER,
    invites: [],
    received: [],
  }
  function call() {
    caller.invite({
      uri: SipUri.parse(`sip:23@${B2BUA}`),
      description: sdp(audioSdp(30_000, ['PCMU'])),
      delegate: {
        onAccepted: (dialog, response) => {
          callerDevice.accepted = response
          inDialog(callerDevice, dialog)
        },
      },
    })
  }

  /** Virtual time passes in small steps, with the promise callbacks of each step run. */
  async function pass(ms: number) {
    for (let elapsed = 0; elapsed < ms; elapsed += 5) {
      clock.advance(5)
      await new Promise((resolve) => setImmediate(resolve))
    }
  }

  /** Sends a key exchange INFO from a device's dialog; resolves with the status it got. */
  async function info(from: Device, body: Buffer, contentType = E2EE_CONTENT_TYPE) {
    let status: number | undefined
    from.dialog!.request('INFO', {
      description: { body, contentType },
      onFinal: (response) => (status = response.status),
    })
    await pass(100)
    return status
  }

  const infosAt = (target: Device) => target.received.filter((request) => request.method === 'INFO')
  const reinvitesAt = (target: Device) =>
    target.received.filter((request) => request.method === 'INVITE')

  return {
    network,
    record,
    device,
    route,
    call,
    pass,
    info,
    infosAt,
    reinvitesAt,
    caller: callerDevice,
    transferTo: (target: CallTarget) => (transferTo = target),
    session: () => session!,
  }
}

test.group('E2EE key exchange messages (parseKeyMessage)', () => {
  test('the contract’s shape passes; anything else is refused with 400, over 1 KiB with 413', ({
    assert,
  }) => {
    assert.deepEqual(parseKeyMessage(keyBody({ epoch: 1, type: 'commit', hash: 'abc_-9' })), {
      message: { epoch: 1, type: 'commit', hash: 'abc_-9' },
    })
    assert.deepEqual(parseKeyMessage(keyBody({ epoch: 2, type: 'confirm' })), {
      message: { epoch: 2, type: 'confirm' },
    })
    const refused = [
      Buffer.from('not json'),
      Buffer.from('[1]'),
      Buffer.from('null'),
      keyBody({ epoch: 0, type: 'commit', hash: 'a' }),
      keyBody({ epoch: 1.5, type: 'confirm' }),
      keyBody({ epoch: '1', type: 'confirm' }),
      keyBody({ epoch: 1, type: 'key', pk: 'a' }),
      keyBody({ epoch: 1, type: 'dhpart', pk: 42 }),
      keyBody({ epoch: 1, type: 'dhpart', pk: 'not base64url!' }),
      keyBody({ epoch: 1, type: 'dhpart' }),
      keyBody({ epoch: 1, type: 'commit' }),
      keyBody({ epoch: 1, type: 'confirm', secret: 'x' }),
    ]
    for (const body of refused)
      assert.equal((parseKeyMessage(body) as { status: number }).status, 400, body.toString())
    const huge = keyBody({ epoch: 1, type: 'dhpart', pk: 'a'.repeat(1100) })
    assert.equal((parseKeyMessage(huge) as { status: number }).status, 413)
  })
})

test.group('E2EE test hook', () => {
  test('refused outside the test environment; clearing it always works', ({ assert }) => {
    const before = process.env.NODE_ENV
    process.env.NODE_ENV = 'production'
    try {
      assert.throws(() => tamperWithKeyExchange(() => undefined), /test environment only/)
      assert.doesNotThrow(() => tamperWithKeyExchange(undefined))
    } finally {
      process.env.NODE_ENV = before
    }
  })
})

test.group(
  'E2EE signalling through the B2BUA (CallSession, in-memory network, fake clock)',
  (group) => {
    group.each.teardown(() => tamperWithKeyExchange(undefined))

    test('browser to browser: roles on the INVITE and the 200, key parts relayed as sent, confirms mark the CDR', async ({
      assert,
    }) => {
      const call = setup()
      const bob = call.device('192.0.2.5', 'webrtc')
      call.route([bob.target])
      call.call()
      await call.pass(400)

      assert.equal(e2eeHeader(bob.device.invites[0]), 'responder;epoch=1')
      assert.equal(e2eeHeader(call.caller.accepted!), 'initiator;epoch=1')

      const commit = keyBody({ epoch: 1, type: 'commit', hash: 'h'.repeat(43) })
      assert.equal(await call.info(call.caller, commit), 200)
      const dhpart = keyBody({ epoch: 1, type: 'dhpart', pk: PK_R })
      assert.equal(await call.info(bob.device, dhpart), 200)
      const reveal = keyBody({ epoch: 1, type: 'reveal', pk: PK_I })
      assert.equal(await call.info(call.caller, reveal), 200)

      const atBob = call.infosAt(bob.device)
      const atCaller = call.infosAt(call.caller)
      assert.deepEqual(
        atBob.map((request) => request.body.toString()),
        [commit.toString(), reveal.toString()]
      )
      assert.deepEqual(
        atCaller.map((request) => request.body.toString()),
        [dhpart.toString()]
      )
      assert.equal(atBob[0].contentType, E2EE_CONTENT_TYPE)

      // One confirm is not enough; the second marks the CDR; neither is passed on.
      assert.equal(await call.info(call.caller, keyBody({ epoch: 1, type: 'confirm' })), 200)
      assert.isFalse(call.record.endToEndEncrypted)
      assert.equal(await call.info(bob.device, keyBody({ epoch: 1, type: 'confirm' })), 200)
      assert.isTrue(call.record.endToEndEncrypted)
      assert.lengthOf(call.infosAt(bob.device), 2)
      assert.lengthOf(call.infosAt(call.caller), 1)
    })

    test('browser to a SIP phone: no role header, a key exchange INFO gets 403 and goes nowhere', async ({
      assert,
    }) => {
      const call = setup()
      const desk = call.device('192.0.2.6', 'rtp')
      call.route([desk.target])
      call.call()
      await call.pass(400)

      assert.isUndefined(e2eeHeader(desk.device.invites[0]))
      assert.isUndefined(e2eeHeader(call.caller.accepted!))
      const commit = keyBody({ epoch: 1, type: 'commit', hash: 'abc' })
      assert.equal(await call.info(call.caller, commit), 403)
      assert.lengthOf(call.infosAt(desk.device), 0)
      assert.equal(await call.info(call.caller, keyBody({ epoch: 1, type: 'confirm' })), 403)
      assert.isFalse(call.record.endToEndEncrypted)
    })

    test('a SIP phone calling a browser: no role header on the browser’s INVITE', async ({
      assert,
    }) => {
      const call = setup({ callerKind: 'rtp' })
      const bob = call.device('192.0.2.5', 'webrtc')
      call.route([bob.target])
      call.call()
      await call.pass(400)
      assert.isUndefined(e2eeHeader(bob.device.invites[0]))
      assert.isUndefined(e2eeHeader(call.caller.accepted!))
    })

    test('bad bodies: 400 (not JSON, wrong type, wrong epoch), 413 over 1 KiB; nothing is relayed', async ({
      assert,
    }) => {
      const call = setup()
      const bob = call.device('192.0.2.5', 'webrtc')
      call.route([bob.target])
      call.call()
      await call.pass(400)

      assert.equal(await call.info(call.caller, Buffer.from('{"epoch":1,')), 400)
      assert.equal(await call.info(call.caller, keyBody({ epoch: 1, type: 'secret' })), 400)
      assert.equal(await call.info(call.caller, keyBody({ epoch: 1, type: 'dhpart', pk: 7 })), 400)
      assert.equal(
        await call.info(call.caller, keyBody({ epoch: 2, type: 'commit', hash: 'a' })),
        400
      )
      const huge = keyBody({ epoch: 1, type: 'commit', hash: 'a'.repeat(2000) })
      assert.equal(await call.info(call.caller, huge), 413)
      // Another content type with a body is not ours: 405 as before.
      assert.equal(await call.info(call.caller, Buffer.from('x'), 'application/dtmf-relay'), 405)
      assert.lengthOf(call.infosAt(bob.device), 0)
    })

    test('the test hook rewrites a relayed body (a substituted public key); off, bodies pass as sent', async ({
      assert,
    }) => {
      const call = setup()
      const bob = call.device('192.0.2.5', 'webrtc')
      call.route([bob.target])
      call.call()
      await call.pass(400)

      const seen: string[] = []
      tamperWithKeyExchange(({ message, from }) => {
        seen.push(`${from}:${message.type}`)
        if (message.type !== 'dhpart') return undefined
        return keyBody({ ...message, pk: 'MALLORY' + 'm'.repeat(80) })
      })
      await call.info(call.caller, keyBody({ epoch: 1, type: 'commit', hash: 'abc' }))
      await call.info(bob.device, keyBody({ epoch: 1, type: 'dhpart', pk: PK_R }))
      assert.deepEqual(seen, ['initiator:commit', 'responder:dhpart'])
      const relayed = JSON.parse(call.infosAt(call.caller)[0].body.toString())
      assert.equal(relayed.pk, 'MALLORY' + 'm'.repeat(80))
      assert.equal(JSON.parse(call.infosAt(bob.device)[0].body.toString()).hash, 'abc')

      tamperWithKeyExchange(undefined)
      await call.info(bob.device, keyBody({ epoch: 1, type: 'abort' }))
      assert.equal(call.infosAt(call.caller)[1].body.toString(), '{"epoch":1,"type":"abort"}')
    })

    test('a hold passed on keeps the pairing: the re-INVITE and the answer to a browser carry the same role', async ({
      assert,
    }) => {
      const call = setup()
      const bob = call.device('192.0.2.5', 'webrtc')
      call.route([bob.target])
      call.call()
      await call.pass(400)
      let answer: SipResponse | undefined
      void bob.device
        .dialog!.reinvite({ description: sdp(audioSdp(50_000, ['PCMU'], 'sendonly')) })
        .then((response) => (answer = response))
      await call.pass(300)
      assert.equal(answer?.status, 200)
      assert.equal(e2eeHeader(answer!), 'responder;epoch=1')
      const hold = call.reinvitesAt(call.caller).at(-1)!
      assert.include(hold.body.toString(), 'a=sendonly')
      assert.equal(e2eeHeader(hold), 'initiator;epoch=1')
    })

    test('a browser talking to a SIP phone: a re-INVITE to the browser says none', async ({
      assert,
    }) => {
      const call = setup()
      const desk = call.device('192.0.2.6', 'rtp')
      call.route([desk.target])
      call.call()
      await call.pass(400)
      void desk.device.dialog!.reinvite({
        description: sdp(audioSdp(50_000, ['PCMU'], 'sendonly')),
      })
      await call.pass(300)
      assert.equal(e2eeHeader(call.reinvitesAt(call.caller).at(-1)!), 'none;epoch=1')
    })

    test('an INFO after the call ended gets 481', async ({ assert }) => {
      const call = setup()
      const bob = call.device('192.0.2.5', 'webrtc')
      call.route([bob.target])
      call.call()
      await call.pass(400)
      // The B2BUA's BYE to Bob is lost: Bob's dialog lives on, the call does not.
      call.network.drop(
        (message, from) =>
          from.startsWith(`${B2BUA}:`) &&
          'method' in message &&
          (message as SipRequest).method === 'BYE',
        Infinity
      )
      call.caller.dialog!.bye()
      await call.pass(100)
      assert.isTrue(call.session().ended)
      assert.equal(
        await call.info(bob.device, keyBody({ epoch: 1, type: 'dhpart', pk: PK_R })),
        481
      )
      assert.lengthOf(call.infosAt(call.caller), 0)
    })

    test('transfer to a browser: a new pairing, epoch 2 (the caller initiates); then to a SIP phone: none', async ({
      assert,
    }) => {
      const call = setup()
      const bob = call.device('192.0.2.5', 'webrtc')
      const carol = call.device('192.0.2.7', 'webrtc')
      const desk = call.device('192.0.2.6', 'rtp')
      call.route([bob.target])
      call.call()
      await call.pass(400)
      await call.info(call.caller, keyBody({ epoch: 1, type: 'confirm' }))
      await call.info(bob.device, keyBody({ epoch: 1, type: 'confirm' }))
      assert.isTrue(call.record.endToEndEncrypted)

      // Bob transfers the caller to Carol, a browser.
      call.transferTo(carol.target)
      bob.device.dialog!.request('REFER', {
        headers: [['Refer-To', `<sip:24@${B2BUA}>`]],
      })
      await call.pass(1000)
      assert.equal(e2eeHeader(carol.device.invites[0]), 'responder;epoch=2')
      const reinvites = call.reinvitesAt(call.caller)
      assert.isAbove(reinvites.length, 0)
      assert.equal(e2eeHeader(reinvites.at(-1)!), 'initiator;epoch=2')
      assert.equal(reinvites.at(-1)!.headers.get('p-asserted-identity'), '<sip:24@example.test>')

      // The old epoch is over; the new one is relayed between the caller and Carol.
      assert.equal(
        await call.info(call.caller, keyBody({ epoch: 1, type: 'commit', hash: 'a' })),
        400
      )
      assert.equal(
        await call.info(call.caller, keyBody({ epoch: 2, type: 'commit', hash: 'b' })),
        200
      )
      assert.equal(JSON.parse(call.infosAt(carol.device)[0].body.toString()).hash, 'b')

      // Carol transfers the caller to a desk phone: the caller's browser stops encrypting frames.
      call.transferTo(desk.target)
      carol.device.dialog!.request('REFER', {
        headers: [['Refer-To', `<sip:25@${B2BUA}>`]],
      })
      await call.pass(1000)
      assert.isUndefined(e2eeHeader(desk.device.invites[0]))
      assert.equal(e2eeHeader(call.reinvitesAt(call.caller).at(-1)!), 'none;epoch=3')
      assert.equal(
        await call.info(call.caller, keyBody({ epoch: 3, type: 'commit', hash: 'c' })),
        403
      )
      // It was end-to-end encrypted for a part: the CDR keeps saying so.
      assert.isTrue(call.record.endToEndEncrypted)
    })
  }
)
