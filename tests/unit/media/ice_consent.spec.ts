import { test } from '@japa/runner'
import { classes, Message, methods, parseMessage } from 'werift'
import IceConsent, { type ConsentClock, type ConsentSocket } from '#media/ice_consent'

/** A clock run by hand: `advance` moves it and fires the timers due (the engine's are coalesced). */
class ManualClock implements ConsentClock {
  ms = 50_000
  timers = new Set<{ at: number; callback: () => void }>()
  now() {
    return this.ms
  }
  setTimeout(callback: () => void, ms: number) {
    const timer = { at: this.ms + ms, callback }
    this.timers.add(timer)
    return timer
  }
  clearTimeout(handle: unknown) {
    this.timers.delete(handle as { at: number; callback: () => void })
  }
  advance(ms: number) {
    const end = this.ms + ms
    for (;;) {
      const due = [...this.timers].filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0]
      if (!due) break
      this.timers.delete(due)
      this.ms = due.at
      due.callback()
    }
    this.ms = end
  }
}

class RecordingSocket implements ConsentSocket {
  sent: { packet: Buffer; port: number; address: string }[] = []
  send(packet: Buffer, port: number, address: string) {
    this.sent.push({ packet: Buffer.from(packet), port, address })
  }
}

const OURS = { ufrag: 'ourU', password: 'our-password-0123456789' }
const THEIRS = { ufrag: 'theirU', password: 'their-password-abcdefghij' }
const PEER = { address: '192.0.2.10', port: 50_123 }

function setup(options: { controlling?: boolean } = {}) {
  const clock = new ManualClock()
  const socket = new RecordingSocket()
  let expired = 0
  const consent = new IceConsent({
    localUfrag: OURS.ufrag,
    localPassword: OURS.password,
    remoteUfrag: THEIRS.ufrag,
    remotePassword: THEIRS.password,
    controlling: () => options.controlling ?? false,
    tieBreaker: 42n,
    path: () => ({ socket, ...PEER }),
    onExpired: () => expired++,
    clock,
    random: () => 0.5,
  })
  return { clock, socket, consent, expired: () => expired }
}

/** The peer's authenticated answer to one of our checks (werift's STUN code, not ours). */
function answerTo(request: Buffer, password = THEIRS.password): Buffer {
  const parsed = parseMessage(request)!
  return new Message(methods.BINDING, classes.RESPONSE, parsed.transactionId)
    .setAttribute('XOR-MAPPED-ADDRESS', ['198.51.100.1', 4000])
    .addMessageIntegrity(Buffer.from(password, 'utf8'))
    .addFingerprint().bytes
}

/** The peer's consent check to us. */
function peerCheck(attributes: { username?: string; password?: string; controlled?: boolean }) {
  const message = new Message(methods.BINDING, classes.REQUEST)
    .setAttribute('USERNAME', attributes.username ?? `${OURS.ufrag}:${THEIRS.ufrag}`)
    .setAttribute('PRIORITY', 1_853_824_767)
  if (attributes.controlled) message.setAttribute('ICE-CONTROLLED', 7n)
  else message.setAttribute('ICE-CONTROLLING', 7n)
  return message
    .addMessageIntegrity(Buffer.from(attributes.password ?? OURS.password, 'utf8'))
    .addFingerprint().bytes
}

test.group('IceConsent (RFC 7675 consent freshness on the nominated pair)', () => {
  test('a check every 4-6 s that the peer can verify; its answers keep consent fresh past 30 s', ({
    assert,
  }) => {
    const { clock, socket, consent, expired } = setup()
    consent.start()
    clock.advance(4999)
    assert.lengthOf(socket.sent, 0)
    clock.advance(1)
    assert.lengthOf(socket.sent, 1)
    const { packet, port, address } = socket.sent[0]
    assert.deepEqual([address, port], [PEER.address, PEER.port])
    // werift verifies our MESSAGE-INTEGRITY with its password and our FINGERPRINT
    const request = parseMessage(packet, Buffer.from(THEIRS.password, 'utf8'))
    assert.exists(request)
    assert.equal(request!.messageClass, classes.REQUEST)
    assert.equal(request!.getAttributeValue('USERNAME'), `${THEIRS.ufrag}:${OURS.ufrag}`)
    assert.equal(request!.getAttributeValue('ICE-CONTROLLED'), 42n)
    assert.isTrue(request!.attributesKeys.includes('FINGERPRINT'))

    for (let second = 5; second < 120; second += 5) {
      const last = socket.sent.at(-1)!.packet
      assert.isTrue(consent.receive(answerTo(last), PEER.address, PEER.port, socket))
      clock.advance(5000)
    }
    assert.equal(expired(), 0)
    assert.equal(consent.responsesReceived, 23)
    assert.isFalse(consent.expired)
    consent.stop()
  })

  test('consent is lost 30 s after the last authentic answer: reported once, no check after it', ({
    assert,
  }) => {
    const { clock, socket, consent, expired } = setup()
    consent.start()
    clock.advance(5000)
    consent.receive(answerTo(socket.sent[0].packet), PEER.address, PEER.port, socket)
    const freshAt = clock.now()
    // From now the peer answers no more, or with a wrong password, or to an unknown transaction
    clock.advance(5000)
    const forged = answerTo(socket.sent.at(-1)!.packet, 'not-their-password')
    assert.isTrue(consent.receive(forged, PEER.address, PEER.port, socket), 'ours, dropped')
    const unknown = answerTo(
      new Message(methods.BINDING, classes.REQUEST).addMessageIntegrity(Buffer.from('x')).bytes
    )
    assert.isFalse(consent.receive(unknown, PEER.address, PEER.port, socket), "werift's")
    clock.advance(30_000 - 5000 - 1)
    assert.equal(expired(), 0)
    clock.advance(1)
    assert.equal(clock.now() - freshAt, 30_000)
    assert.equal(expired(), 1)
    assert.isTrue(consent.expired)
    const sent = socket.sent.length
    clock.advance(60_000)
    assert.equal(expired(), 1)
    assert.lengthOf(socket.sent, sent)
    assert.equal(clock.timers.size, 0)
  })

  test("the peer's checks on the nominated pair are answered so that it can verify them", ({
    assert,
  }) => {
    const { socket, consent } = setup()
    consent.start()
    const check = peerCheck({})
    assert.isTrue(consent.receive(check, PEER.address, PEER.port, socket))
    assert.lengthOf(socket.sent, 1)
    const answer = parseMessage(socket.sent[0].packet, Buffer.from(OURS.password, 'utf8'))
    assert.exists(answer)
    assert.equal(answer!.messageClass, classes.RESPONSE)
    assert.deepEqual(answer!.transactionId, parseMessage(check)!.transactionId)
    assert.deepEqual(answer!.getAttributeValue('XOR-MAPPED-ADDRESS'), [PEER.address, PEER.port])
    assert.equal(consent.checksAnswered, 1)
  })

  test('what is not a consent check on the nominated pair goes on to werift, unanswered', ({
    assert,
  }) => {
    const { socket, consent } = setup()
    const check = peerCheck({})
    assert.isFalse(consent.receive(check, PEER.address, PEER.port, socket), 'not started')
    consent.start()
    const cases: [string, boolean][] = [
      [
        'wrong password',
        consent.receive(peerCheck({ password: 'nope' }), PEER.address, PEER.port, socket),
      ],
      [
        'other username (an ICE restart)',
        consent.receive(peerCheck({ username: 'new:theirU' }), PEER.address, PEER.port, socket),
      ],
      [
        'role conflict',
        consent.receive(peerCheck({ controlled: true }), PEER.address, PEER.port, socket),
      ],
      ['another port', consent.receive(check, PEER.address, PEER.port + 1, socket)],
      ['another address', consent.receive(check, '192.0.2.11', PEER.port, socket)],
      ['another socket', consent.receive(check, PEER.address, PEER.port, new RecordingSocket())],
      ['IPv6', consent.receive(check, '2001:db8::1', PEER.port, socket)],
      [
        'truncated',
        consent.receive(check.subarray(0, check.length - 4), PEER.address, PEER.port, socket),
      ],
    ]
    assert.deepEqual(
      cases.filter(([, handled]) => handled).map(([name]) => name),
      []
    )
    assert.lengthOf(socket.sent, 0)
  })

  test('as the controlling agent our checks say so, and the peer must not claim control', ({
    assert,
  }) => {
    const { clock, socket, consent } = setup({ controlling: true })
    consent.start()
    clock.advance(5000)
    const request = parseMessage(socket.sent[0].packet)!
    assert.equal(request.getAttributeValue('ICE-CONTROLLING'), 42n)
    assert.isFalse(consent.receive(peerCheck({}), PEER.address, PEER.port, socket))
    assert.isTrue(consent.receive(peerCheck({ controlled: true }), PEER.address, PEER.port, socket))
  })
})
