import { test } from '@japa/runner'
import SipUri from '#sip/message/sip_uri'
import NameAddress from '#sip/message/name_address'
import type SipRequest from '#sip/message/sip_request'
import type SipResponse from '#sip/message/sip_response'
import DialogEventNotifier, {
  type SubscriptionDecision,
} from '#sip/subscription/dialog_event_notifier'
import { BOB_HOST, createPhonePair } from '#tests/unit/calls/sip/support/phone_pair'

/**
 * Bob's core is the notifier (a PBX), Alice's core a desk phone subscribing to extension 23's
 * dialogs, on the in-memory network and the fake clock.
 */
function setup(decide?: (request: SipRequest) => SubscriptionDecision) {
  const pair = createPhonePair()
  const notifier = new DialogEventNotifier({
    core: pair.bob,
    clock: pair.clock,
    minExpires: 60,
    maxExpires: 600,
    maxPerSubscriber: 3,
    authorize: async (request) => decide?.(request) ?? { kind: 'accept', resource: 'user-23' },
  })
  notifier.attach()
  const notifies: SipRequest[] = []
  let answerNotify = 200
  pair.alice.setInDialogHandler('NOTIFY', (incoming) => {
    notifies.push(incoming.request)
    incoming.respond(answerNotify)
    return true
  })
  const run = async (ms: number) => {
    for (let elapsed = 0; elapsed < ms; elapsed += 10) {
      await new Promise((resolve) => setImmediate(resolve))
      pair.clock.advance(Math.min(10, ms - elapsed))
    }
    await new Promise((resolve) => setImmediate(resolve))
  }
  const subscribe = (
    headers: Array<[string, string]>,
    dialog?: { callId: string; toTag: string; fromTag: string; cseq: number }
  ) => {
    const answers: SipResponse[] = []
    const uri = SipUri.parse(`sip:23@${BOB_HOST}`)
    pair.alice.request({
      method: 'SUBSCRIBE',
      uri,
      contact: pair.alice.contact(),
      to: dialog ? new NameAddress(uri).withTag(dialog.toTag) : undefined,
      headers,
      onFinal: (response) => answers.push(response),
      ...(dialog ? { callId: dialog.callId, fromTag: dialog.fromTag, cseq: dialog.cseq } : {}),
    })
    return answers
  }
  return {
    ...pair,
    notifier,
    notifies,
    run,
    subscribe,
    setNotifyAnswer: (status: number) => (answerNotify = status),
  }
}

const DIALOG = [
  ['Event', 'dialog'],
  ['Accept', 'application/dialog-info+xml'],
] as Array<[string, string]>

function bodyOf(request: SipRequest): string {
  return request.body.toString()
}

/** The subscription dialog as Alice knows it from the 200. */
function dialogOf(response: SipResponse, cseq: number) {
  return {
    callId: response.callId,
    toTag: response.to.tag ?? '',
    fromTag: response.from.tag ?? '',
    cseq,
  }
}

test.group('SIP dialog event notifier (RFC 6665, RFC 4235)', () => {
  test('SUBSCRIBE is answered 200 with Expires and followed by a full-state NOTIFY', async ({
    assert,
  }) => {
    const net = setup()
    const answers = net.subscribe([...DIALOG, ['Expires', '300']])
    await net.run(100)
    assert.equal(answers[0]?.status, 200)
    assert.equal(answers[0].headers.get('expires'), '300')
    assert.isDefined(answers[0].to.tag)
    assert.lengthOf(net.notifies, 1)
    const notify = net.notifies[0]
    assert.equal(notify.headers.get('event'), 'dialog')
    assert.equal(notify.headers.get('subscription-state'), 'active;expires=300')
    assert.equal(notify.headers.get('content-type'), 'application/dialog-info+xml')
    assert.equal(notify.from.tag, answers[0].to.tag)
    assert.equal(notify.to.tag, answers[0].from.tag)
    assert.equal(notify.callId, answers[0].callId)
    assert.include(bodyOf(notify), 'version="0" state="full"')
    assert.include(bodyOf(notify), `entity="sip:23@${BOB_HOST}"`)
    assert.notInclude(bodyOf(notify), '<dialog ')
    assert.equal(net.notifier.subscribersOf('user-23'), 1)
  })

  test('state changes are notified with increasing versions; terminated is told once', async ({
    assert,
  }) => {
    const net = setup()
    net.subscribe([...DIALOG, ['Expires', '300']])
    await net.run(100)
    net.notifier.publish('user-23', [{ id: 'c1', state: 'early', direction: 'recipient' }])
    await net.run(100)
    net.notifier.publish('user-23', [{ id: 'c1', state: 'confirmed', direction: 'recipient' }])
    await net.run(100)
    net.notifier.publish('user-23', [{ id: 'c1', state: 'terminated', direction: 'recipient' }])
    await net.run(100)
    // Another resource's change reaches nobody here.
    net.notifier.publish('user-24', [{ id: 'c2', state: 'confirmed' }])
    await net.run(100)
    const bodies = net.notifies.map(bodyOf)
    assert.lengthOf(bodies, 4)
    assert.include(bodies[1], 'version="1"')
    assert.include(bodies[1], '<dialog id="c1" direction="recipient">')
    assert.include(bodies[1], '<state>early</state>')
    assert.include(bodies[2], 'version="2"')
    assert.include(bodies[2], '<state>confirmed</state>')
    assert.include(bodies[3], 'version="3"')
    assert.include(bodies[3], '<state>terminated</state>')
    // CSeq grows inside the subscription dialog.
    const cseqs = net.notifies.map((notify) => notify.cseq.sequence)
    assert.deepEqual(
      cseqs,
      [...cseqs].sort((a, b) => a - b)
    )
    assert.lengthOf(new Set(cseqs), 4)
    // A new subscriber sees the idle line: the terminated dialog was forgotten.
    net.subscribe([...DIALOG, ['Expires', '300']])
    await net.run(100)
    assert.notInclude(bodyOf(net.notifies[4]), '<dialog ')
  })

  test('a re-SUBSCRIBE refreshes; without it the subscription expires on the clock', async ({
    assert,
  }) => {
    const net = setup()
    const answers = net.subscribe([...DIALOG, ['Expires', '120']])
    await net.run(100)
    await net.run(100_000)
    const refresh = net.subscribe(
      [...DIALOG, ['Expires', '120']],
      dialogOf(answers[0], answers[0].cseq.sequence + 1)
    )
    await net.run(100)
    assert.equal(refresh[0]?.status, 200)
    assert.equal(refresh[0].to.tag, answers[0].to.tag)
    assert.lengthOf(net.notifies, 2)
    assert.equal(net.notifies[1].headers.get('subscription-state'), 'active;expires=120')
    // 100 s after the refresh it still lives (the first expiry would have passed).
    await net.run(100_000)
    assert.equal(net.notifier.subscriptionCount, 1)
    await net.run(20_100)
    assert.equal(net.notifier.subscriptionCount, 0)
    assert.lengthOf(net.notifies, 3)
    assert.equal(net.notifies[2].headers.get('subscription-state'), 'terminated;reason=timeout')
    // A refresh after the end is a stranger.
    const late = net.subscribe(
      [...DIALOG, ['Expires', '120']],
      dialogOf(answers[0], answers[0].cseq.sequence + 5)
    )
    await net.run(100)
    assert.equal(late[0]?.status, 481)
  })

  test('Expires: 0 unsubscribes with a final NOTIFY terminated', async ({ assert }) => {
    const net = setup()
    const answers = net.subscribe([...DIALOG, ['Expires', '300']])
    await net.run(100)
    const gone = net.subscribe(
      [...DIALOG, ['Expires', '0']],
      dialogOf(answers[0], answers[0].cseq.sequence + 1)
    )
    await net.run(100)
    assert.equal(gone[0]?.status, 200)
    assert.equal(gone[0].headers.get('expires'), '0')
    assert.lengthOf(net.notifies, 2)
    assert.equal(net.notifies[1].headers.get('subscription-state'), 'terminated')
    assert.equal(net.notifier.subscriptionCount, 0)
    net.notifier.publish('user-23', [{ id: 'c1', state: 'early' }])
    await net.run(100)
    assert.lengthOf(net.notifies, 2)
  })

  test("other packages get 489, too short intervals 423, the owner's refusals pass", async ({
    assert,
  }) => {
    const net = setup((request) =>
      request.uri.user === '23'
        ? { kind: 'accept', resource: 'user-23' }
        : { kind: 'reject', status: 404 }
    )
    const presence = net.subscribe([
      ['Event', 'presence'],
      ['Expires', '300'],
    ])
    const short = net.subscribe([...DIALOG, ['Expires', '30']])
    const accept = net.subscribe([
      ['Event', 'dialog'],
      ['Accept', 'application/pidf+xml'],
    ])
    const longer = net.subscribe([...DIALOG, ['Expires', '86400']])
    await net.run(200)
    assert.equal(presence[0]?.status, 489)
    assert.equal(presence[0].headers.get('allow-events'), 'dialog')
    assert.equal(short[0]?.status, 423)
    assert.equal(short[0].headers.get('min-expires'), '60')
    assert.equal(accept[0]?.status, 406)
    assert.equal(longer[0]?.status, 200)
    assert.equal(longer[0].headers.get('expires'), '600')
    const other = net.notifier
    assert.equal(other.subscriptionCount, 1)
    // A refusal of the owner (unknown extension) is sent as it is.
    const answers: SipResponse[] = []
    net.alice.request({
      method: 'SUBSCRIBE',
      uri: SipUri.parse(`sip:99@${BOB_HOST}`),
      contact: net.alice.contact(),
      headers: DIALOG,
      onFinal: (response) => answers.push(response),
    })
    await net.run(100)
    assert.equal(answers[0]?.status, 404)
    assert.equal(other.subscriptionCount, 1)
  })

  test('a NOTIFY answered 481 or timing out ends the subscription', async ({ assert }) => {
    const net = setup()
    net.subscribe([...DIALOG, ['Expires', '300']])
    await net.run(100)
    net.setNotifyAnswer(481)
    net.notifier.publish('user-23', [{ id: 'c1', state: 'early' }])
    await net.run(100)
    assert.equal(net.notifier.subscriptionCount, 0)

    net.setNotifyAnswer(200)
    net.subscribe([...DIALOG, ['Expires', '300']])
    await net.run(100)
    assert.equal(net.notifier.subscriptionCount, 1)
    net.network.drop((_message, from) => from.startsWith(BOB_HOST), Infinity)
    net.notifier.publish('user-23', [{ id: 'c2', state: 'confirmed' }])
    await net.run(40_000)
    assert.equal(net.notifier.subscriptionCount, 0)
  })

  test('a resource withdrawn (presence turned off) ends its subscriptions with deactivated', async ({
    assert,
  }) => {
    const net = setup()
    net.subscribe([...DIALOG, ['Expires', '300']])
    await net.run(100)
    net.notifier.endSubscriptionsOf('user-24')
    assert.equal(net.notifier.subscriptionCount, 1)
    net.notifier.endSubscriptionsOf('user-23')
    await net.run(100)
    assert.equal(net.notifier.subscriptionCount, 0)
    assert.lengthOf(net.notifies, 2)
    assert.equal(net.notifies[1].headers.get('subscription-state'), 'terminated;reason=deactivated')
    // No timer is left behind to fire later.
    await net.run(400_000)
    assert.lengthOf(net.notifies, 2)
  })

  test('one subscriber holds a limited number of subscriptions', async ({ assert }) => {
    const net = setup(() => ({ kind: 'accept', resource: 'user-23', subscriber: 'alice' }))
    const answers = [1, 2, 3, 4].map(() => net.subscribe([...DIALOG, ['Expires', '300']]))
    await net.run(200)
    assert.deepEqual(
      answers.map((answer) => answer[0]?.status),
      [200, 200, 200, 403]
    )
    assert.equal(net.notifier.subscriptionCount, 3)
  })
})
