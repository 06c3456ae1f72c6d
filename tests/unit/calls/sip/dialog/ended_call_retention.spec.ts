import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { test } from '@japa/runner'
import { createPhonePair, run, sdp } from '#tests/unit/calls/sip/support/phone_pair'

/**
 * A call's transactions outlive it: an answered INVITE's for 64*T1 (Timers L and M, RFC 6026), a
 * BYE's for Timer J, a rejected INVITE's for Timer D. The objects an application hangs on the
 * SIP layer (the delegates of its INVITEs and dialogs, and through them its whole call) must not
 * live on with them: at a few hundred calls per second that is 32 s of ended calls on the heap,
 * copied by every scavenge (issue 17, bench/README.md).
 */
setFlagsFromString('--expose-gc')
const collectGarbage = runInNewContext('gc') as () => void

/** What an application keeps per call; only the SIP layer's references may keep it alive. */
class ApplicationCall {
  readonly events: string[] = []
}

async function collected(refs: Array<WeakRef<ApplicationCall>>): Promise<boolean> {
  // A WeakRef's target is kept until the end of the job that made or read it.
  await new Promise((resolve) => setImmediate(resolve))
  collectGarbage()
  return refs.every((ref) => ref.deref() === undefined)
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
