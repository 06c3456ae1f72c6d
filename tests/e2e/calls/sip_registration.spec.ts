import { readFileSync } from 'node:fs'
import { test } from '@japa/runner'
import env from '#start/env'
import type WS from 'ws'
import {
  Inviter,
  Registerer,
  RegistererState,
  SessionState,
  UserAgent,
  type Invitation,
  type Session,
  type SessionDescriptionHandler,
} from 'sip.js'
import type IncomingInvite from '#sip/ua/incoming_invite'
import type SipUri from '#sip/message/sip_uri'
import type SipStack from '#sip/sip_stack'
import type { SessionDescription } from '#sip/dialog/session_description'
import { DialogEndReason } from '#sip/dialog/dialog_state'
import type { Binding } from '#sip/registrar/binding'
import type StreamTransport from '#sip/transport/stream_transport'
import { configuredRealm, registrarSettings } from '#calls/signalling/registrar_settings'
import { auditMark, auditSince } from '#tests/support/audit'
import { webSocketWithOrigin } from '#tests/support/sipjs_web_phone'
import { startSipp, type SippProcess, type Stunnel } from '#tests/support/sip_peers'
import {
  bindingsGone,
  callBinding,
  localPort,
  registeredBindings,
  removeBindings,
  sipStack,
  sleep,
  tlsTunnelTo,
  userWithDevice,
  within,
} from '#tests/support/sip_test_stack'
import { sipSubjectParts, userSubject } from '#calls/signalling/sip_subject'

/**
 * Registration against real peers: sipp as a customer's SIP phone (digest REGISTER over UDP,
 * TCP and TLS, then found for an inbound call; a stream phone's binding goes with its
 * connection), sipp guessing passwords until the lockout, and sip.js (the browser library)
 * registering and calling over the WebSocket, and losing its binding when its socket closes.
 * sipp's exit code is asserted: it exits 0 only when its whole scenario ran.
 */

const OFFER: SessionDescription = {
  contentType: 'application/sdp',
  body: Buffer.from(
    [
      'v=0',
      'o=fluffycall 4711 1 IN IP4 127.0.0.1',
      's=-',
      'c=IN IP4 127.0.0.1',
      't=0 0',
      'm=audio 40000 RTP/AVP 0',
      'a=rtpmap:0 PCMU/8000',
      'a=sendrecv',
      '',
    ].join('\r\n')
  ),
}

/** Open TCP/TLS connections of the stack's transport, to tell a reused connection from a new one. */
function streamConnections(stack: SipStack, protocol: 'tcp' | 'tls'): number {
  return (stack.layer.transportFor(protocol) as StreamTransport).connectionCount
}

test.group('SIP registration: a SIP phone (sipp) registers and is found', () => {
  for (const protocol of ['udp', 'tcp', 'tls'] as const) {
    test(`over ${protocol.toUpperCase()}: REGISTER, 401, REGISTER with digest, 200; then an inbound INVITE reaches it`, async ({
      assert,
    }) => {
      const stack = await sipStack()
      const realm = configuredRealm()
      const { user, device, username, password } = await userWithDevice()
      // The TCP phone has an address of its own, so its connections can be counted (phoneConnections).
      const phoneIp = protocol === 'tcp' ? '127.0.0.5' : '127.0.0.1'
      let stunnel: Stunnel | undefined
      let target = `127.0.0.1:${localPort(stack, protocol)}`
      if (protocol === 'tls') {
        // sipp speaks TCP to a stunnel4 client, which speaks TLS to the stack.
        const tunnel = await tlsTunnelTo(stack)
        stunnel = tunnel.stunnel
        target = `127.0.0.1:${tunnel.port}`
      }
      let phone: SippProcess | undefined
      let bindings: Binding[] = []
      try {
        phone = await startSipp({
          scenario:
            protocol === 'tls'
              ? 'uac_tls_phone_register_then_answer.xml'
              : 'uac_register_then_answer.xml',
          transport: protocol === 'udp' ? 'u1' : 't1',
          target,
          localIp: phoneIp,
          keys: { domain: realm },
          extraArgs: ['-s', username, '-au', username, '-ap', password],
          timeoutSeconds: 20,
          traceMessages: true,
        })
        bindings = await registeredBindings(stack, user.id, phone)
        assert.lengthOf(bindings, 1)
        const [binding] = bindings
        assert.equal(binding.aor, `sip:${username}@${realm}`)
        assert.equal(sipSubjectParts(binding.subject)?.deviceId, device.id)
        assert.equal(binding.contactUri.split(';')[0], `sip:${username}@${phoneIp}:${phone.port}`)
        assert.equal(binding.source.protocol, protocol)
        assert.equal(binding.source.host, phoneIp)
        if (protocol !== 'udp') {
          assert.isString(binding.source.connectionId, 'a stream binding names its connection')
        }
        if (protocol === 'tcp') {
          assert.equal(phoneConnections(phoneIp), 1)
        }
        const tlsConnections = protocol === 'tls' ? streamConnections(stack, 'tls') : 0

        const dialog = await within(
          callBinding(stack, binding, OFFER, binding.callId),
          10_000,
          'answer'
        ).catch((error) => {
          throw new Error(
            `${error.message}; the phone's messages:\n${phone?.messages().slice(-6000)}`
          )
        })
        if (protocol === 'tcp') {
          // The INVITE (and the ACK) went over the connection the phone registered on: no new one.
          assert.equal(phoneConnections(phoneIp), 1)
        }
        if (protocol === 'tls') {
          assert.equal(
            streamConnections(stack, 'tls'),
            tlsConnections,
            'no new TLS connection for the INVITE'
          )
        }
        const ended = new Promise<DialogEndReason>((resolve) => {
          dialog.delegate = { onTerminated: resolve }
        })
        assert.isTrue(dialog.bye())
        assert.equal(await ended, DialogEndReason.ByeSent)

        const outcome = await phone.done
        assert.equal(outcome.code, 0, phone.describe(outcome))

        // sipp has exited. A stream phone's connection closed with it, and so did its binding;
        // a UDP phone has no connection to lose and stays bound until its expiry.
        if (protocol === 'udp') {
          await sleep(500)
          assert.lengthOf(await stack.registrar.registrar.lookupSubject(userSubject(user.id)), 1)
        } else {
          assert.isBelow(await bindingsGone(stack, user.id, 3000), 3000)
        }
      } finally {
        phone?.stop()
        await stunnel?.stop()
        await removeBindings(stack, bindings)
      }
    }).timeout(40_000)
  }

  test('a TCP phone that drops its connection loses its binding at once; a UDP phone keeps its own', async ({
    assert,
  }) => {
    const stack = await sipStack()
    const realm = configuredRealm()
    const tcpPhone = await userWithDevice()
    const udpPhone = await userWithDevice()
    const registerRaw = (
      who: typeof tcpPhone,
      transport: 'u1' | 't1',
      localIp: string,
      scenario: string
    ) =>
      startSipp({
        scenario,
        transport,
        target: `127.0.0.1:${localPort(stack, transport === 'u1' ? 'udp' : 'tcp')}`,
        localIp,
        keys: { domain: realm },
        extraArgs: ['-s', who.username, '-au', who.username, '-ap', who.password],
        timeoutSeconds: 20,
        traceMessages: true,
      })
    const udp = await registerRaw(udpPhone, 'u1', '127.0.0.1', 'uac_register.xml')
    const udpOutcome = await udp.done
    assert.equal(udpOutcome.code, 0, udp.describe(udpOutcome))
    const udpBindings = await stack.registrar.registrar.lookupSubject(userSubject(udpPhone.user.id))
    // It registers, then waits for a call that does not come: it is killed while still connected.
    const tcp = await registerRaw(tcpPhone, 't1', '127.0.0.6', 'uac_register_then_answer.xml')
    try {
      assert.lengthOf(udpBindings, 1)
      const [binding] = await registeredBindings(stack, tcpPhone.user.id, tcp)
      assert.equal(binding.source.protocol, 'tcp')
      assert.equal(phoneConnections('127.0.0.6'), 1)

      tcp.kill()
      const goneAfter = await bindingsGone(stack, tcpPhone.user.id, 3000)
      assert.isBelow(goneAfter, 3000, 'gone with the connection, not at its expiry (300 s)')
      assert.equal(phoneConnections('127.0.0.6'), 0)
      assert.deepEqual(
        await stack.registrar.registrar.lookupSubject(userSubject(udpPhone.user.id)),
        udpBindings,
        'the UDP phone is untouched'
      )
    } finally {
      tcp.stop()
      udp.stop()
      await removeBindings(stack, udpBindings)
    }
  }).timeout(40_000)
})

/**
 * Established TCP connections with one end at `ip`, from /proc/net/tcp (where both ends of a
 * loopback connection are listed, so each is counted once by its end at `ip`).
 */
function phoneConnections(ip: string): number {
  const hex = ip
    .split('.')
    .reverse()
    .map((part) => Number(part).toString(16).toUpperCase().padStart(2, '0'))
    .join('')
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter(([, local, , state]) => state === '01' && local?.startsWith(`${hex}:`)).length
}

test.group('SIP registration: lockout after repeated wrong passwords', () => {
  test('wrong passwords lock the username (audited with source IP, no credentials); the right password is refused; others still register', async ({
    assert,
  }) => {
    const stack = await sipStack()
    const realm = configuredRealm()
    const { lockout } = registrarSettings()
    // One more than the username limit, and fewer than the source limit: it is the username that locks.
    const attempts = lockout.usernameMaxFailures + 1
    assert.isBelow(attempts, lockout.sourceMaxFailures)
    const victim = await userWithDevice()
    const other = await userWithDevice()
    const wrongPassword = `${victim.password.slice(0, -1)}${victim.password.endsWith('x') ? 'y' : 'x'}`
    const target = `127.0.0.1:${localPort(stack, 'udp')}`
    const mark = await auditMark()

    // The guesser, from 127.0.0.3: every attempt must be answered with a new challenge.
    const guesser = await startSipp({
      scenario: 'uac_register_refused.xml',
      transport: 'u1',
      target,
      localIp: '127.0.0.3',
      calls: attempts,
      keys: { domain: realm },
      extraArgs: ['-s', victim.username, '-au', victim.username, '-ap', wrongPassword, '-l', '1'],
      timeoutSeconds: 20,
    })
    const guessed = await guesser.done
    assert.equal(guessed.code, 0, guesser.describe(guessed))

    const entries = await auditSince(mark)
      .whereIn('action', ['sip.auth.failed', 'sip.auth.locked'])
      .orderBy('id')
    const failed = entries.filter((entry) => entry.action === 'sip.auth.failed')
    const locked = entries.filter((entry) => entry.action === 'sip.auth.locked')
    assert.lengthOf(failed, attempts)
    assert.lengthOf(locked, 1)
    assert.deepInclude(locked[0].details, { username: victim.username, scope: 'username' })
    for (const entry of entries) {
      assert.equal(entry.ip, '127.0.0.3')
      assert.equal(entry.companyId, victim.user.companyId)
      assert.equal(entry.targetType, 'sip_device')
      assert.equal(String(entry.targetId), String(victim.device.id))
      assert.equal(entry.details?.transport, 'udp')
      const logged = JSON.stringify(entry.serialize())
      assert.notInclude(logged, wrongPassword)
      assert.notInclude(logged, victim.password)
      assert.notMatch(logged, /response|nonce|cnonce|ha1|authorization/i)
    }
    assert.deepEqual(
      failed.map((entry) => entry.details?.reason),
      [...Array(attempts - 1).fill('wrong_credentials'), 'locked']
    )

    // The owner's phone with the RIGHT password, from yet another address: refused, the username is locked.
    const owner = await startSipp({
      scenario: 'uac_register_refused.xml',
      transport: 'u1',
      target,
      localIp: '127.0.0.4',
      keys: { domain: realm },
      extraArgs: ['-s', victim.username, '-au', victim.username, '-ap', victim.password],
    })
    const refused = await owner.done
    assert.equal(refused.code, 0, owner.describe(refused))
    assert.lengthOf(await stack.registrar.registrar.lookupSubject(userSubject(victim.user.id)), 0)
    const ownerEntries = await auditSince(mark).where('ip', '127.0.0.4').orderBy('id')
    assert.deepEqual(
      ownerEntries.map((entry) => [entry.action, entry.details?.reason]),
      [['sip.auth.failed', 'locked']]
    )

    // Another device, from 127.0.0.2, registers as usual.
    const phone = await startSipp({
      scenario: 'uac_register.xml',
      transport: 'u1',
      target,
      localIp: '127.0.0.2',
      keys: { domain: realm },
      extraArgs: ['-s', other.username, '-au', other.username, '-ap', other.password],
    })
    const registered = await phone.done
    assert.equal(registered.code, 0, phone.describe(registered))
    const bindings = await stack.registrar.registrar.lookupSubject(userSubject(other.user.id))
    try {
      assert.lengthOf(bindings, 1)
      assert.equal(bindings[0].source.host, '127.0.0.2')
    } finally {
      await removeBindings(stack, bindings)
    }
  }).timeout(60_000)
})

/** A fixed SDP: there is no WebRTC in Node, and media is not what these tests are about. */
function sdpOf(origin: string, port: number): string {
  return [
    'v=0',
    `o=${origin} 1 1 IN IP4 127.0.0.1`,
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=audio ${port} RTP/AVP 0`,
    'a=rtpmap:0 PCMU/8000',
    'a=sendrecv',
    '',
  ].join('\r\n')
}

/**
 * The browser's SessionDescriptionHandler without a browser: it offers (or answers) a fixed SDP
 * and keeps what the other side sent.
 */
class FakeSessionDescriptionHandler implements SessionDescriptionHandler {
  remote: string | undefined

  close(): void {}

  async getDescription() {
    return { body: sdpOf('sipjs', 41000), contentType: 'application/sdp' }
  }

  hasDescription(contentType: string): boolean {
    return contentType === 'application/sdp'
  }

  async setDescription(sdp: string): Promise<void> {
    this.remote = sdp
  }

  sendDtmf(): boolean {
    return false
  }
}

/** One REGISTER of sip.js, resolved by its final response (after any digest retry). */
function register(registerer: Registerer): Promise<void> {
  return new Promise((resolve, reject) => {
    registerer
      .register({
        requestDelegate: {
          onAccept: () => resolve(),
          onReject: (response) =>
            reject(
              new Error(
                `REGISTER refused: ${response.message.statusCode} ${response.message.reasonPhrase}`
              )
            ),
        },
      })
      .catch(reject)
  })
}

function sessionReaches(session: Session, wanted: SessionState): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (state: SessionState) => {
      if (state === wanted) resolve()
      else if (state === SessionState.Terminated)
        reject(new Error(`session ended before ${wanted}`))
    }
    if (session.state === wanted) resolve()
    session.stateChange.addListener(check)
  })
}

test.group('SIP registration: sip.js over WebSocket', () => {
  test('sip.js registers with digest over WebSocket, calls out, and is reached by an inbound call', async ({
    assert,
    cleanup,
  }) => {
    const stack = await sipStack()
    const deadline = Date.now() + 5000
    while (!stack.layer.webSocket?.attached && Date.now() < deadline) await sleep(20)
    assert.isTrue(stack.layer.webSocket?.attached, 'the SIP WebSocket is served by the HTTP server')

    const realm = configuredRealm()
    const { user, device, username, password } = await userWithDevice()
    const original = globalThis.WebSocket
    const sockets: WS[] = []
    globalThis.WebSocket = webSocketWithOrigin(new URL(env.get('APP_URL')).origin, sockets) as never
    cleanup(() => {
      globalThis.WebSocket = original
      for (const socket of sockets) socket.terminate()
    })

    const handlers: FakeSessionDescriptionHandler[] = []
    let inbound: ((invitation: Invitation) => void) | undefined
    const userAgent = new UserAgent({
      uri: UserAgent.makeURI(`sip:${username}@${realm}`),
      transportOptions: { server: `ws://127.0.0.1:${env.get('PORT')}/sip` },
      authorizationUsername: username,
      authorizationPassword: password,
      // SIPJS_DEBUG=1 prints sip.js's log, every message included.
      logBuiltinEnabled: process.env.SIPJS_DEBUG === '1',
      logLevel: process.env.SIPJS_DEBUG === '1' ? 'debug' : 'error',
      sessionDescriptionHandlerFactory: () => {
        const handler = new FakeSessionDescriptionHandler()
        handlers.push(handler)
        return handler
      },
      delegate: { onInvite: (invitation) => inbound?.(invitation) },
    })
    const registerer = new Registerer(userAgent, { expires: 300 })
    let bindings: Binding[] = []
    cleanup(async () => {
      stack.core.setInviteHandler(undefined)
      await removeBindings(stack, bindings)
      await within(userAgent.stop(), 3000, 'sip.js stop').catch(() => {})
    })

    // Registration: REGISTER, 401, REGISTER with digest, 200 listing sip.js's own Contact.
    await within(userAgent.start(), 5000, 'WebSocket connect')
    await within(register(registerer), 5000, 'sip.js registered')
    assert.equal(registerer.state, RegistererState.Registered)
    bindings = await stack.registrar.registrar.lookupSubject(userSubject(user.id))
    assert.lengthOf(bindings, 1)
    const [binding] = bindings
    assert.equal(binding.aor, `sip:${username}@${realm}`)
    assert.equal(sipSubjectParts(binding.subject)?.deviceId, device.id)
    assert.equal(binding.source.protocol, 'ws')
    assert.isString(binding.source.connectionId)
    assert.match(binding.contactUri, /^sip:[^@]+@[a-z0-9]+\.invalid;transport=ws$/)

    // Outbound: sip.js calls a number; the stack's INVITE handler answers with SDP.
    const invites: IncomingInvite[] = []
    let calleeEnded!: (reason: DialogEndReason) => void
    const calleeEnd = new Promise<DialogEndReason>((resolve) => (calleeEnded = resolve))
    stack.core.setInviteHandler((invite) => {
      invites.push(invite)
      const dialog = invite.accept({
        description: {
          body: Buffer.from(sdpOf('fluffycall', 42000)),
          contentType: 'application/sdp',
        },
      })
      if (dialog) dialog.delegate = { onTerminated: calleeEnded }
    })
    const inviter = new Inviter(userAgent, UserAgent.makeURI(`sip:+4930123456@${realm}`)!)
    const outboundEstablished = sessionReaches(inviter, SessionState.Established)
    await inviter.invite()
    await within(outboundEstablished, 5000, 'outbound call established')
    assert.lengthOf(invites, 1)
    assert.equal((invites[0].request.uri as SipUri).user, '+4930123456')
    assert.equal((invites[0].request.from.uri as SipUri).user, username)
    assert.include(invites[0].offer?.body.toString() ?? '', 'o=sipjs')
    assert.include(handlers[0]?.remote ?? '', 'o=fluffycall', 'sip.js got the answer')
    await inviter.bye()
    assert.equal(await within(calleeEnd, 5000, 'BYE at the stack'), DialogEndReason.ByeReceived)
    stack.core.setInviteHandler(undefined)

    // Inbound: the stack calls the registered binding; it travels over sip.js's WebSocket.
    const invitations: Invitation[] = []
    inbound = (invitation) => {
      invitations.push(invitation)
      void invitation.accept()
    }
    const dialog = await within(callBinding(stack, binding, OFFER), 5000, 'inbound call answered')
    assert.lengthOf(invitations, 1)
    const invitation = invitations[0]
    await within(sessionReaches(invitation, SessionState.Established), 5000, 'inbound established')
    assert.include(handlers.at(-1)?.remote ?? '', 'o=fluffycall', 'sip.js got our offer')
    assert.equal(invitation.request.ruri?.toString(), binding.contactUri)
    const inboundEnded = sessionReaches(invitation, SessionState.Terminated)
    assert.isTrue(dialog.bye())
    await within(inboundEnded, 5000, 'sip.js got the BYE')

    // Refreshes: sip.js answers each later REGISTER with its first nonce and nc=1 again. That
    // gets a fresh nonce flagged stale, sip.js retries with it, and none of it is a security
    // event: nothing in the audit log, nothing counted towards a lock of the source address
    // (more refreshes than the source limit here).
    const mark = await auditMark()
    const { lockout } = registrarSettings()
    for (let refresh = 0; refresh < lockout.sourceMaxFailures + 1; refresh++) {
      await within(register(registerer), 5000, `refresh ${refresh + 1}`)
    }
    assert.deepEqual(
      (await auditSince(mark).where('action', 'like', 'sip.auth.%')).map((entry) => [
        entry.action,
        entry.details?.reason,
      ]),
      []
    )
    const neighbour = await userWithDevice()
    const phone = await startSipp({
      scenario: 'uac_register.xml',
      transport: 'u1',
      target: `127.0.0.1:${localPort(stack, 'udp')}`,
      keys: { domain: realm },
      extraArgs: ['-s', neighbour.username, '-au', neighbour.username, '-ap', neighbour.password],
    })
    const neighbourOutcome = await phone.done
    assert.equal(neighbourOutcome.code, 0, phone.describe(neighbourOutcome))
    await removeBindings(
      stack,
      await stack.registrar.registrar.lookupSubject(userSubject(neighbour.user.id))
    )

    // Unregistering removes the binding.
    const unregistered = new Promise<void>((resolve) =>
      registerer.stateChange.addListener((state) => {
        if (state === RegistererState.Unregistered) resolve()
      })
    )
    await registerer.unregister()
    await within(unregistered, 5000, 'unregistered')
    assert.lengthOf(await stack.registrar.registrar.lookupSubject(userSubject(user.id)), 0)
    // Leaving the page (the un-REGISTER re-sends the old nonce too) is no event either.
    assert.lengthOf(await auditSince(mark).where('action', 'like', 'sip.auth.%'), 0)
  }).timeout(30_000)

  test('a closed WebSocket (the tab closed, no un-REGISTER) takes its binding with it at once', async ({
    assert,
    cleanup,
  }) => {
    const stack = await sipStack()
    const deadline = Date.now() + 5000
    while (!stack.layer.webSocket?.attached && Date.now() < deadline) await sleep(20)
    assert.isTrue(stack.layer.webSocket?.attached, 'the SIP WebSocket is served by the HTTP server')

    const realm = configuredRealm()
    const tab = await userWithDevice()
    const original = globalThis.WebSocket
    const sockets: WS[] = []
    globalThis.WebSocket = webSocketWithOrigin(new URL(env.get('APP_URL')).origin, sockets) as never
    const userAgent = new UserAgent({
      uri: UserAgent.makeURI(`sip:${tab.username}@${realm}`),
      transportOptions: { server: `ws://127.0.0.1:${env.get('PORT')}/sip` },
      authorizationUsername: tab.username,
      authorizationPassword: tab.password,
      logLevel: 'error',
      sessionDescriptionHandlerFactory: () => new FakeSessionDescriptionHandler(),
    })
    cleanup(async () => {
      globalThis.WebSocket = original
      for (const socket of sockets) socket.terminate()
      await removeBindings(
        stack,
        await stack.registrar.registrar.lookupSubject(userSubject(tab.user.id))
      )
    })

    await within(userAgent.start(), 5000, 'WebSocket connect')
    await within(register(new Registerer(userAgent, { expires: 600 })), 5000, 'sip.js registered')
    const [binding] = await stack.registrar.registrar.lookupSubject(userSubject(tab.user.id))
    assert.equal(binding?.source.protocol, 'ws')
    const connectionId = binding.source.connectionId!
    assert.isTrue(stack.layer.hasConnection(binding.source))
    assert.isAbove(binding.expiresAt - Date.now(), 500_000, 'registered for ten minutes')

    // What a closed tab does: the socket goes, nothing is sent first.
    assert.lengthOf(sockets, 1)
    sockets[0].terminate()
    const goneAfter = await bindingsGone(stack, tab.user.id, 3000)
    assert.isBelow(goneAfter, 3000)
    assert.isFalse(stack.layer.hasConnection({ protocol: 'ws', connectionId }))
    assert.deepEqual(
      await stack.registrar.bindings.removeByConnection(connectionId),
      [],
      'nothing left to remove'
    )
  }).timeout(20_000)
})
