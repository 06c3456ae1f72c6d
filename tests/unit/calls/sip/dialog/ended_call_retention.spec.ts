import { test } from '@japa/runner'
import { createPhonePair, run, sdp } from '#tests/unit/calls/sip/support/phone_pair'
import { collected } from '#tests/unit/calls/sip/support/reachability'

/**
 * A call's transactions outlive it: an answered INVITE's for 64*T1 (Timers L and M, RFC 6026), a
 * BYE's for Timer J, a rejected INVITE's for Timer D. The objects an application hangs on the
 * SIP layer (the delegates of its INVITEs and dialogs, and through them its whole call) must not
 * live on with them: at a few hundred calls per second that is 32 s of ended calls on the heap,
 * copied by every scavenge (issue 17, bench/README.md).
 */
/** What an application keeps per call; only the SIP layer's references may keep it alive. */
class ApplicationCall {
  readonly events: string[] = []
}

test.group('Dialogs / an ended call leaves no application object behind', () => {
  test('answered, then hung up by the callee: the transactions live on, the calls do not', async ({
    assert,
  }) => {
    const pair = createPhonePair()
    const { clock, alice, bob } = pair
    const refs: Array<WeakRef<ApplicationCall>> = []
    const ended: string[] = []
    bob.setInviteHandler((invite) => {
      const call = new ApplicationCall()
      refs.push(new WeakRef(call))
      invite.delegate = { onCanceled: () => call.events.push('canceled') }
      invite.progress(180)
      clock.setTimeout(() => {
        const dialog = invite.accept({ description: sdp('bob') })!
        dialog.delegate = {
          onAck: () => call.events.push('ack'),
          onTerminated: (reason) => ended.push(`bob ${reason}`),
        }
        clock.setTimeout(() => dialog.bye(), 2000)
      }, 500)
    })
    ;(() => {
      const call = new ApplicationCall()
      refs.push(new WeakRef(call))
      alice.invite({ uri: pair.bobUri, description: sdp('alice') }).delegate = {
        onProgress: () => call.events.push('progress'),
        onAccepted: (dialog) => {
          dialog.delegate = {
            onRequest: () => call.events.push('request'),
            onTerminated: (reason) => ended.push(`alice ${reason}`),
          }
        },
      }
    })()

    await run(clock, 3000)
    assert.deepEqual(ended.sort(), ['alice bye-received', 'bob bye-sent'])
    // Timer M (the INVITE's client side), Timers L and J (the INVITE's and BYE's server sides)
    assert.isAbove(alice.transactions.clientCount, 0)
    assert.isAbove(alice.transactions.serverCount + bob.transactions.serverCount, 0)
    assert.isTrue(await collected(refs), 'an ended call is still reachable from the SIP layer')

    await run(clock, 64 * 500)
    assert.equal(alice.transactions.clientCount + bob.transactions.clientCount, 0)
    assert.equal(alice.transactions.serverCount + bob.transactions.serverCount, 0)
  })

  test('rejected, and canceled: the lingering transactions keep neither call', async ({
    assert,
  }) => {
    const pair = createPhonePair()
    const { clock, alice, bob } = pair
    const refs: Array<WeakRef<ApplicationCall>> = []
    const outcomes: string[] = []
    let calls = 0
    bob.setInviteHandler((invite) => {
      const call = new ApplicationCall()
      refs.push(new WeakRef(call))
      invite.delegate = { onCanceled: () => outcomes.push(`bob canceled ${call.events.length}`) }
      invite.progress(180)
      // The first call is rejected; the second rings until the caller cancels it.
      if (++calls === 1) clock.setTimeout(() => invite.reject(486), 200)
    })
    const place = (cancelAfterMs?: number) => {
      const call = new ApplicationCall()
      refs.push(new WeakRef(call))
      const invite = alice.invite({ uri: pair.bobUri, description: sdp('alice') })
      invite.delegate = {
        onRejected: (response) => outcomes.push(`alice rejected ${response.status}`),
        onCanceled: (response) => outcomes.push(`alice canceled ${response.status}`),
        onProgress: () => call.events.push('progress'),
      }
      if (cancelAfterMs) clock.setTimeout(() => invite.cancel(), cancelAfterMs)
    }
    place()
    await run(clock, 1000)
    place(300)
    await run(clock, 1000)

    assert.deepEqual(outcomes, ['alice rejected 486', 'bob canceled 0', 'alice canceled 487'])
    // Timer D (the rejected INVITE's client side) and the server sides' Timers H/I
    assert.isAbove(alice.transactions.clientCount, 0)
    assert.isTrue(await collected(refs), 'an ended call is still reachable from the SIP layer')
  })
})

test.group('Dialogs / calls that end by failure leave nothing behind either', () => {
  test('an INVITE nobody answers, a 2xx never acknowledged, a peer gone mid-call', async ({
    assert,
  }) => {
    const pair = createPhonePair()
    const { clock, network, alice, bob } = pair
    const refs: Array<WeakRef<ApplicationCall>> = []
    const outcomes: string[] = []
    let calls = 0
    let invites = 0
    bob.setInviteHandler((invite) => {
      const call = new ApplicationCall()
      refs.push(new WeakRef(call))
      invite.delegate = { onCanceled: () => call.events.push('canceled') }
      const dialog = invite.accept({ description: sdp('bob') })!
      dialog.delegate = {
        onAck: () => call.events.push('ack'),
        onTerminated: (reason) => outcomes.push(`bob ${++calls} ${reason}`),
      }
      // The third call's INVITE is the second to reach Bob: he hangs up into the void
      if (++invites === 2) clock.setTimeout(() => dialog.bye(), 5000)
    })
    const place = (onAnswered?: (dialog: { request(method: string): unknown }) => void) => {
      const call = new ApplicationCall()
      refs.push(new WeakRef(call))
      alice.invite({ uri: pair.bobUri, description: sdp('alice') }).delegate = {
        onProgress: () => call.events.push('progress'),
        onRejected: (response) => outcomes.push(`alice rejected ${response.status}`),
        onCanceled: (response) => outcomes.push(`alice canceled ${response.status}`),
        onAccepted: (dialog) => {
          dialog.delegate = {
            onRequest: () => call.events.push('request'),
            onTerminated: (reason) => outcomes.push(`alice ${reason}`),
          }
          onAnswered?.(dialog)
        },
      }
    }

    const method = (message: unknown) => (message as { method?: string }).method
    let lost: 'invites' | 'acks' | 'everything' | null = 'invites'
    network.drop(
      (message) =>
        lost === 'everything' ||
        (lost === 'invites' && method(message) === 'INVITE') ||
        (lost === 'acks' && method(message) === 'ACK'),
      Infinity
    )
    // 1. Bob's host is gone: Timer B ends the INVITE with a local 408 (RFC 3261 17.1.1.2)
    place()
    await run(clock, 64 * 500 + 1000)
    // 2. Bob answers, every ACK is lost: he ends his dialog at 64*T1 with BYE (13.3.1.4)
    lost = 'acks'
    place()
    await run(clock, 64 * 500 + 1000)
    // 3. Answered, then the network between them goes: Alice's INFO times out, her dialog ends
    // (RFC 3261 12.2.1.2); Bob's BYE gets no answer
    lost = null
    place((dialog) => {
      lost = 'everything'
      clock.setTimeout(() => dialog.request('INFO'), 1000)
    })
    await run(clock, 64 * 500 + 2000)

    assert.deepEqual(outcomes, [
      'alice rejected 408',
      'bob 1 ack-timeout',
      'alice bye-received',
      'bob 2 bye-sent',
      'alice peer-gone',
    ])
    // Alice's BYE after the 408 and Bob's unanswered BYE are still being retransmitted
    assert.isAbove(alice.transactions.clientCount, 0)
    assert.isAbove(bob.transactions.clientCount, 0)
    assert.isTrue(await collected(refs), 'a failed call is still reachable from the SIP layer')
  })
})
