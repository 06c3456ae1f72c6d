import { test } from '@japa/runner'
import {
  base64url,
  deriveCallKeys,
  fromBase64url,
  generateKeyPair,
  shortAuthenticationString,
  type CallKeys,
} from '../../../../resources/js/phone/e2ee/key_agreement.js'
import {
  KeyExchange,
  parseMessage,
  parseRoleHeader,
  type E2eeFailure,
  type E2eeMessage,
} from '../../../../resources/js/phone/e2ee/key_exchange.js'

const hex = (data: Uint8Array) => Buffer.from(data).toString('hex')

/** A manual clock: timers fire when the test says so. */
class Timers {
  #pending: Array<{ callback: () => void; cancelled: boolean }> = []
  set = (callback: () => void) => {
    const timer = { callback, cancelled: false }
    this.#pending.push(timer)
    return timer
  }
  clear = (handle: unknown) => {
    ;(handle as { cancelled: boolean }).cancelled = true
  }
  fireAll() {
    for (const timer of this.#pending.splice(0)) if (!timer.cancelled) timer.callback()
  }
}

interface Side {
  exchange: KeyExchange
  keys: CallKeys | null
  failure: E2eeFailure | null
  sent: E2eeMessage[]
}

/**
 * Two exchanges wired through a relay like our B2BUA's: each message reaches the other side
 * (after `tamper` may rewrite it); confirm is consumed by the relay.
 */
function pair(
  options: {
    tamper?: (message: E2eeMessage) => E2eeMessage
    status?: (message: E2eeMessage) => number
    drop?: (message: E2eeMessage) => boolean
  } = {}
) {
  const timers = new Timers()
  const sides: Record<'initiator' | 'responder', Side> = {} as never
  const deliveries: Promise<void>[] = []
  for (const role of ['initiator', 'responder'] as const) {
    const side: Side = { exchange: null as never, keys: null, failure: null, sent: [] }
    side.exchange = new KeyExchange({
      role,
      epoch: 1,
      timeoutMs: 6000,
      setTimer: timers.set,
      clearTimer: timers.clear,
      events: {
        send: async (message) => {
          side.sent.push(message)
          const status = options.status?.(message) ?? 200
          if (status !== 200 || message.type === 'confirm' || options.drop?.(message)) return status
          const other = sides[role === 'initiator' ? 'responder' : 'initiator']
          const relayed = options.tamper ? options.tamper(message) : message
          deliveries.push(other.exchange.receive(relayed))
          return status
        },
        keys: (keys) => {
          side.keys = keys
        },
        failed: (reason) => {
          side.failure = reason
        },
      },
    })
    sides[role] = side
  }
  const settle = async () => {
    while (deliveries.length) await deliveries.shift()
  }
  return { ...sides, timers, settle }
}

test.group('E2EE: key agreement and exchange', () => {
  test('both sides end with crossed keys and the same six-digit code', async ({ assert }) => {
    const { initiator, responder, settle } = pair()
    await responder.exchange.start()
    await initiator.exchange.start()
    await settle()
    assert.isNotNull(initiator.keys)
    assert.isNotNull(responder.keys)
    assert.equal(hex(initiator.keys!.sendKey), hex(responder.keys!.receiveKey))
    assert.equal(hex(initiator.keys!.receiveKey), hex(responder.keys!.sendKey))
    assert.notEqual(hex(initiator.keys!.sendKey), hex(initiator.keys!.receiveKey))
    assert.lengthOf(initiator.keys!.sendKey, 16)
    assert.match(initiator.keys!.sas, /^\d{3} \d{3}$/)
    assert.equal(initiator.keys!.sas, responder.keys!.sas)
    assert.deepEqual(
      initiator.sent.map((message) => message.type),
      ['commit', 'reveal', 'confirm']
    )
    assert.deepEqual(
      responder.sent.map((message) => message.type),
      ['dhpart', 'confirm']
    )
    // The commitment is SHA-256 of the key revealed later (base64url, 32 bytes).
    const commit = initiator.sent[0]
    const reveal = initiator.sent[1]
    assert.lengthOf(fromBase64url(commit.hash!)!, 32)
    assert.lengthOf(fromBase64url(reveal.pk!)!, 65)
  })

  test('a key substituted in transit gives two different codes', async ({ assert }) => {
    const attacker = await generateKeyPair()
    const { initiator, responder, settle } = pair({
      tamper: (message) =>
        message.type === 'dhpart' ? { ...message, pk: base64url(attacker.publicKey) } : message,
    })
    await responder.exchange.start()
    await initiator.exchange.start()
    await settle()
    assert.isNotNull(initiator.keys)
    assert.isNotNull(responder.keys)
    assert.notEqual(initiator.keys!.sas, responder.keys!.sas)
    assert.notEqual(hex(initiator.keys!.sendKey), hex(responder.keys!.receiveKey))
  })

  test('a revealed key that is not the committed one is refused: both sides give up', async ({
    assert,
  }) => {
    const attacker = await generateKeyPair()
    const { initiator, responder, settle } = pair({
      tamper: (message) =>
        message.type === 'reveal' ? { ...message, pk: base64url(attacker.publicKey) } : message,
    })
    await responder.exchange.start()
    await initiator.exchange.start()
    await settle()
    assert.isNull(responder.keys)
    assert.equal(responder.failure, 'mismatch')
    assert.equal(responder.sent.at(-1)?.type, 'abort')
    assert.equal(initiator.failure, 'aborted')
  })

  test('no answer in time: abort and fall back; 403 from the server: refused', async ({
    assert,
  }) => {
    const silent = pair({ drop: (message) => message.type === 'commit' })
    await silent.responder.exchange.start()
    await silent.initiator.exchange.start()
    await silent.settle()
    assert.isNull(silent.initiator.failure)
    silent.timers.fireAll()
    await silent.settle()
    // The responder's clock ran out first: it says so, and the initiator gives up too.
    assert.equal(silent.responder.failure, 'timeout')
    assert.equal(silent.responder.sent.at(-1)?.type, 'abort')
    assert.equal(silent.initiator.failure, 'aborted')

    const refused = pair({ status: () => 403 })
    await refused.initiator.exchange.start()
    assert.equal(refused.initiator.failure, 'refused')
    assert.isNull(refused.initiator.keys)
  })

  test('messages of another epoch and malformed ones are ignored', async ({ assert }) => {
    const { responder } = pair()
    await responder.exchange.start()
    await responder.exchange.receive({
      epoch: 2,
      type: 'commit',
      hash: base64url(new Uint8Array(32)),
    })
    assert.lengthOf(responder.sent, 0)
    await responder.exchange.receive({ epoch: 2, type: 'abort' })
    assert.isNull(responder.failure)
    await responder.exchange.receive({ epoch: 1, type: 'commit', hash: 'not base64!' })
    assert.equal(responder.failure, 'invalid')

    assert.isNull(parseMessage('{"epoch":1,"type":"shout"}'))
    assert.isNull(parseMessage('{"epoch":-1,"type":"commit"}'))
    assert.isNull(parseMessage('[1]'))
    assert.isNull(parseMessage('x'.repeat(2000)))
    assert.deepEqual(parseMessage('{"epoch":3,"type":"dhpart","pk":"AA"}'), {
      epoch: 3,
      type: 'dhpart',
      hash: undefined,
      pk: 'AA',
    })
    assert.deepEqual(parseRoleHeader('initiator;epoch=1'), { role: 'initiator', epoch: 1 })
    assert.deepEqual(parseRoleHeader(' responder ; epoch=12'), { role: 'responder', epoch: 12 })
    assert.deepEqual(parseRoleHeader('none;epoch=2'), { role: 'none', epoch: 2 })
    assert.isNull(parseRoleHeader('initiator'))
    assert.isNull(parseRoleHeader(undefined))
  })

  test('a public key that is not a P-256 point is refused', async ({ assert }) => {
    const own = await generateKeyPair()
    const bogus = new Uint8Array(65).fill(7)
    bogus[0] = 4
    await assert.rejects(() => deriveCallKeys('initiator', own, bogus))
    await assert.rejects(() => deriveCallKeys('initiator', own, own.publicKey.subarray(0, 33)))
  })

  test('the code is six digits in two groups, leading zeros kept', ({ assert }) => {
    assert.equal(shortAuthenticationString(Uint8Array.of(0, 0, 0, 42)), '000 042')
    assert.equal(shortAuthenticationString(Uint8Array.of(0xff, 0xff, 0xff, 0xff)), '967 295')
  })
})
