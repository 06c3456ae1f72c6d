import { test } from '@japa/runner'
import FakeClock from '#sip/clock/fake_clock'
import TransactionManager from '#sip/transaction/transaction_manager'
import InviteClientTransaction from '#sip/transaction/invite_client_transaction'
import InviteServerTransaction, {
  InviteServerState,
} from '#sip/transaction/invite_server_transaction'
import NonInviteServerTransaction from '#sip/transaction/non_invite_server_transaction'
import { createResponse } from '#sip/message/create_response'
import type SipResponse from '#sip/message/sip_response'
import {
  PEER,
  RecordingTransport,
  invite,
  options,
  parseRequest,
  responseTo,
} from '#tests/unit/calls/sip/sip_fixtures'

function setup() {
  const clock = new FakeClock()
  let counter = 0
  const manager = new TransactionManager({ clock, tokens: () => `t${++counter}` })
  const transport = new RecordingTransport(false, () => clock.now())
  const source = { transport, responseDestination: PEER }
  return { clock, manager, transport, source }
}

function cancelFor(inviteText: string): string {
  return inviteText
    .replace('INVITE sip:', 'CANCEL sip:')
    .replace('CSeq: 314159 INVITE', 'CSeq: 314159 CANCEL')
    .replace(/Content-Type: application\/sdp\r\n/, '')
    .replace(/Content-Length: \d+\r\n\r\n[\s\S]*$/, 'Content-Length: 0\r\n\r\n')
}

test.group('TransactionManager / client side', () => {
  test('creates branches with the RFC 3261 magic cookie', ({ assert }) => {
    const { manager } = setup()
    assert.equal(manager.newBranch(), 'z9hG4bKt1')
    assert.notEqual(
      new TransactionManager({ clock: new FakeClock() }).newBranch(),
      manager.newBranch()
    )
  })

  test('matches responses by branch and CSeq method', ({ assert }) => {
    const { manager, transport, clock } = setup()
    const branch = manager.newBranch()
    const request = parseRequest(invite({ branch }))
    const received: SipResponse[] = []
    const transaction = manager.sendRequest(request, transport, PEER, {
      receiveResponse: (response) => received.push(response),
    })
    assert.instanceOf(transaction, InviteClientTransaction)
    assert.equal(manager.clientCount, 1)

    const cancelResponse = responseTo(parseRequest(cancelFor(invite({ branch }))), 200)
    assert.isFalse(manager.receiveResponse(cancelResponse))
    const stray = responseTo(parseRequest(invite({ branch: 'z9hG4bKother' })), 180)
    assert.isFalse(manager.receiveResponse(stray))

    assert.isTrue(manager.receiveResponse(responseTo(request, 486)))
    assert.deepEqual(
      received.map((response) => response.status),
      [486]
    )
    clock.advance(32_000)
    assert.equal(manager.clientCount, 0)
    assert.isFalse(manager.receiveResponse(responseTo(request, 486)))
  })

  test('refuses ACK and requests without a magic-cookie branch', ({ assert }) => {
    const { manager, transport } = setup()
    const user = { receiveResponse: () => {} }
    const ack = parseRequest(invite({ branch: manager.newBranch() }).replace(/INVITE/g, 'ACK'))
    assert.throws(() => manager.sendRequest(ack, transport, PEER, user))
    const legacy = parseRequest(options('1234'))
    assert.throws(() => manager.sendRequest(legacy, transport, PEER, user))
  })
})

test.group('TransactionManager / server side', () => {
  test('a new request creates a server transaction; its retransmission is absorbed', ({
    assert,
  }) => {
    const { manager, source, transport } = setup()
    const request = parseRequest(options())
    const first = manager.receiveRequest(request, source)
    if (first.type !== 'new') {
      return assert.fail('expected a new transaction')
    }
    assert.instanceOf(first.transaction, NonInviteServerTransaction)
    first.transaction.respond(createResponse(request, 200, { toTag: 'uas' }))

    const again = manager.receiveRequest(parseRequest(options()), source)
    assert.equal(again.type, 'absorbed')
    assert.lengthOf(transport.responses(200), 2)
    assert.equal(manager.serverCount, 1)
  })

  test('a request with the same branch from another sent-by is another transaction', ({
    assert,
  }) => {
    const { manager, source } = setup()
    manager.receiveRequest(parseRequest(options()), source)
    const other = options().replace('192.0.2.1:5060', '192.0.2.99:5060')
    assert.equal(manager.receiveRequest(parseRequest(other), source).type, 'new')
    assert.equal(manager.serverCount, 2)
  })

  test('routes the ACK of a non-2xx to its INVITE transaction and other ACKs up', ({ assert }) => {
    const { manager, source, clock } = setup()
    const request = parseRequest(invite())
    const outcome = manager.receiveRequest(request, source)
    if (outcome.type !== 'new') {
      return assert.fail('expected a new transaction')
    }
    const transaction = outcome.transaction as InviteServerTransaction
    transaction.respond(createResponse(request, 486, { toTag: 'uas' }))

    const ack = parseRequest(
      invite({ body: '' }).replace('INVITE sip', 'ACK sip').replace('314159 INVITE', '314159 ACK')
    )
    assert.equal(manager.receiveRequest(ack, source).type, 'absorbed')
    assert.equal(transaction.state, InviteServerState.Confirmed)

    const ackFor2xx = parseRequest(
      invite({ branch: 'z9hG4bKack2xx', body: '' })
        .replace('INVITE sip', 'ACK sip')
        .replace('314159 INVITE', '314159 ACK')
    )
    const upward = manager.receiveRequest(ackFor2xx, source)
    assert.equal(upward.type, 'ack')

    clock.advance(5000)
    assert.equal(manager.serverCount, 0)
  })

  test('finds the INVITE a CANCEL refers to', ({ assert }) => {
    const { manager, source } = setup()
    const request = parseRequest(invite())
    manager.receiveRequest(request, source)
    const cancel = parseRequest(cancelFor(invite()))
    const target = manager.findCancelTarget(cancel)
    assert.instanceOf(target, InviteServerTransaction)
    assert.strictEqual(target?.request, request)

    const outcome = manager.receiveRequest(cancel, source)
    if (outcome.type !== 'new') {
      return assert.fail('expected a new transaction')
    }
    assert.instanceOf(outcome.transaction, NonInviteServerTransaction)
    assert.equal(manager.serverCount, 2)
    assert.isUndefined(
      manager.findCancelTarget(parseRequest(cancelFor(invite({ branch: 'z9hG4bKnone' }))))
    )
  })

  test('matches retransmissions from RFC 2543 peers without a magic cookie', ({ assert }) => {
    const { manager, source } = setup()
    const legacy = options('legacy-branch-1')
    assert.equal(manager.receiveRequest(parseRequest(legacy), source).type, 'new')
    assert.equal(manager.receiveRequest(parseRequest(legacy), source).type, 'absorbed')
  })

  test('terminateAll ends every transaction and leaves no timer behind', ({ assert }) => {
    const { manager, source, clock, transport } = setup()
    manager.receiveRequest(parseRequest(invite()), source)
    manager.sendRequest(parseRequest(options(manager.newBranch())), transport, PEER, {
      receiveResponse: () => {},
    })
    assert.isAbove(clock.pending, 0)
    manager.terminateAll()
    assert.equal(manager.clientCount + manager.serverCount, 0)
    assert.equal(clock.pending, 0)
  })
})
