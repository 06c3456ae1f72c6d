import { test } from '@japa/runner'
import NameAddress from '#sip/message/name_address'
import SipUri from '#sip/message/sip_uri'
import type SipRequest from '#sip/message/sip_request'
import { createRequest, userAgentVia } from '#sip/message/create_request'
import ScriptedPeer from '#tests/unit/calls/sip/support/scripted_peer'
import { BOB_HOST, createPhonePair } from '#tests/unit/calls/sip/support/phone_pair'

const BOB = { protocol: 'udp' as const, host: BOB_HOST, port: 5060 }

function setup() {
  const pair = createPhonePair()
  const peer = new ScriptedPeer(pair.network.endpoint('192.0.2.9'))
  let counter = 0
  const send = (
    method: string,
    options: {
      headers?: Array<[string, string]>
      toTag?: string
      callId?: string
      branch?: string
      maxForwards?: number
    } = {}
  ): SipRequest => {
    counter++
    const to = new NameAddress(SipUri.parse(`sip:bob@${BOB_HOST}`))
    const request = createRequest({
      method,
      uri: SipUri.parse(`sip:bob@${BOB_HOST}`),
      via: userAgentVia('UDP', '192.0.2.9', 5060, options.branch ?? `z9hG4bKraw${counter}`),
      from: NameAddress.parse('<sip:peer@192.0.2.9>;tag=peer1'),
      to: options.toTag ? to.withTag(options.toTag) : to,
      callId: options.callId ?? `raw-${counter}`,
      cseq: 1,
      maxForwards: options.maxForwards,
      headers: options.headers,
    })
    peer.send(request, BOB)
    pair.clock.advance(50)
    return request
  }
  const answer = () => {
    const response = peer.responses.at(-1)
    if (!response) {
      throw new Error(`no response:\n${pair.network.trace()}`)
    }
    return response
  }
  return { ...pair, peer, send, answer }
}

test.group('User agent core / built-in answers', () => {
  test('OPTIONS gets 200 with Allow, Accept and Supported', ({ assert }) => {
    const { send, answer } = setup()
    send('OPTIONS')
    const response = answer()
    assert.equal(response.status, 200)
    assert.includeMembers(response.headers.getAll('allow'), [
      'INVITE',
      'ACK',
      'CANCEL',
      'BYE',
      'OPTIONS',
      'UPDATE',
    ])
    assert.equal(response.headers.get('accept'), 'application/sdp')
    assert.deepEqual(response.headers.getAll('supported'), ['timer'])
  })

  test('an unknown method gets 501 with Allow', ({ assert }) => {
    const { send, answer } = setup()
    send('FROBNICATE')
    assert.equal(answer().status, 501)
    assert.include(answer().headers.getAll('allow'), 'INVITE')
  })

  test('Require with an unsupported option tag gets 420 naming it in Unsupported', ({ assert }) => {
    const { send, answer, bob } = setup()
    bob.setInviteHandler(() => assert.fail('the INVITE must not reach the application'))
    send('INVITE', { headers: [['Require', 'foo, timer']] })
    assert.equal(answer().status, 420)
    assert.deepEqual(answer().headers.getAll('unsupported'), ['foo'])
  })

  test('BYE for an unknown dialog gets 481, with or without a To tag', ({ assert }) => {
    const { send, peer } = setup()
    send('BYE', { toTag: 'nobody' })
    send('BYE')
    assert.deepEqual(
      peer.responses.map((response) => response.status),
      [481, 481]
    )
  })

  test('Max-Forwards 0 gets 483, except OPTIONS which is answered', ({ assert }) => {
    const { send, peer, bob } = setup()
    bob.setInviteHandler(() => assert.fail('the INVITE must not reach the application'))
    send('INVITE', { maxForwards: 0 })
    send('OPTIONS', { maxForwards: 0 })
    assert.deepEqual(
      peer.responses.map((response) => response.status),
      [483, 200]
    )
  })

  test('a request merged by a forking proxy gets 482 on its second path', ({ assert }) => {
    const { send, peer, bob } = setup()
    bob.setHandler('MESSAGE', () => {})
    send('MESSAGE', { callId: 'merged', branch: 'z9hG4bKpath1' })
    send('MESSAGE', { callId: 'merged', branch: 'z9hG4bKpath2' })
    assert.deepEqual(
      peer.responses.map((response) => response.status),
      [482]
    )
  })

  test('a registered handler gets its method, which becomes allowed', ({ assert }) => {
    const { send, peer, bob } = setup()
    bob.setHandler('MESSAGE', (request) => request.respond(202))
    send('MESSAGE')
    send('OPTIONS')
    assert.equal(peer.responses[0].status, 202)
    assert.include(peer.responses[1].headers.getAll('allow'), 'MESSAGE')
  })

  test('the allowed methods follow handlers as they come and go, asked before and after', ({
    assert,
  }) => {
    const { send, peer, bob } = setup()
    send('MESSAGE')
    assert.notInclude(bob.allowedMethods, 'MESSAGE')
    bob.setHandler('MESSAGE', (request) => request.respond(202))
    bob.setInDialogHandler('NOTIFY', () => false)
    send('MESSAGE')
    send('OPTIONS')
    bob.allowedMethods.push('FROBNICATE')
    assert.includeMembers(bob.allowedMethods, ['MESSAGE', 'NOTIFY'])
    bob.setHandler('MESSAGE', undefined)
    send('MESSAGE')
    send('FROBNICATE')
    assert.deepEqual(
      peer.responses.map((response) => response.status),
      [501, 202, 200, 501, 501]
    )
    assert.include(peer.responses[2].headers.getAll('allow'), 'MESSAGE')
    assert.include(peer.responses[2].headers.getAll('allow'), 'NOTIFY')
    assert.notInclude(peer.responses[3].headers.getAll('allow'), 'MESSAGE')
    assert.include(peer.responses[3].headers.getAll('allow'), 'NOTIFY')
    assert.notInclude(bob.allowedMethods, 'FROBNICATE')
  })

  test('a retransmitted request is absorbed by its transaction and answered again', ({
    assert,
  }) => {
    const { send, peer, bob } = setup()
    let calls = 0
    bob.setHandler('MESSAGE', (request) => {
      calls++
      request.respond(200)
    })
    send('MESSAGE', { callId: 'again', branch: 'z9hG4bKsame' })
    send('MESSAGE', { callId: 'again', branch: 'z9hG4bKsame' })
    assert.equal(calls, 1)
    assert.deepEqual(
      peer.responses.map((response) => response.status),
      [200, 200]
    )
  })
})

test.group('User agent core / handler failures', () => {
  test('a throwing handler still gets its request answered 500 and the error reported', ({
    assert,
  }) => {
    const errors: unknown[] = []
    const pair = createPhonePair({}, { onHandlerError: (error) => errors.push(error) })
    pair.bob.setInviteHandler(() => {
      throw new Error('application bug')
    })
    pair.alice.invite({ uri: pair.bobUri })
    pair.clock.advance(100)
    assert.lengthOf(pair.network.responses(500, 'INVITE'), 1)
    assert.lengthOf(errors, 1)
    pair.clock.runAll()
    assert.equal(pair.alice.transactionCount + pair.bob.transactionCount, 0)
  })
})
