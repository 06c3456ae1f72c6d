import { createHash } from 'node:crypto'
import { test } from '@japa/runner'
import { DialogEndReason } from '#sip/dialog/dialog_state'
import { OutgoingInviteState } from '#sip/ua/outgoing_invite'
import type IncomingInvite from '#sip/ua/incoming_invite'
import { LossyUdpRelay, startSipp, type SippProcess, type Stunnel } from '#tests/support/sip_peers'
import {
  callOut,
  diagnosed,
  localPort,
  sdp,
  sipStack,
  warpPastTransactionTimers,
  tlsTunnelTo,
  waitUntil,
  withCallee,
  within,
} from '#tests/support/sip_test_stack'

/**
 * Call flows of the SIP stack against real peers: sipp as callee (digest challenges, re-INVITE,
 * BYE, CANCEL) and as caller (one call, then 1,000 at 50/s), over UDP, TCP and TLS (stunnel4 in
 * front of sipp's TCP, as Debian's sipp has no TLS). Every test asserts sipp's exit code: sipp
 * exits 0 only when its scenario ran to its end for every call.
 */

const md5 = (text: string) => createHash('md5').update(text).digest('hex')

/** The parameters of a Digest credentials header value. */
function digestParams(value: string): Record<string, string> {
  const params: Record<string, string> = {}
  for (const match of value.replace(/^Digest\s+/i, '').matchAll(/(\w+)=("([^"]*)"|[^,\s]+)/g)) {
    params[match[1].toLowerCase()] = match[3] ?? match[2]
  }
  return params
}

/** The INVITE sipp received that carries Proxy-Authorization, from its -trace_msg log. */
function authorizedInviteFromLog(log: string): { uri: string; header: string } | undefined {
  for (const block of log.split(/^-{10,}.*$/m)) {
    const request = /^INVITE (\S+) SIP\/2\.0$/m.exec(block)
    const header = /^Proxy-Authorization:\s*(.+?)\s*$/im.exec(block)
    if (request && header && /message received/i.test(block)) {
      return { uri: request[1], header: header[1] }
    }
  }
  return undefined
}

test.group('SIP calls: CANCEL leaves nothing behind', () => {
  // Transactions wait out their timers before they go: Timer D (32 s) after a 487 over UDP,
  // Timer M (64*T1 = 32 s, RFC 6026) after a 2xx, Timer K (T4 = 5 s) after CANCEL and BYE. The
  // server's SIP time is moved past them rather than waited for.
  const DRAIN_MS = 5000

  test(
    'CANCEL before the answer over {$self}: 200 to the CANCEL, 487, ACK; then no dialog or transaction'
  )
    .with(['udp', 'tcp', 'tls'] as const)
    .run(async ({ assert }, protocol) => {
      const stack = await sipStack()
      await withCallee('uas_cancel.xml', protocol, async (callee) => {
        const call = callOut(stack, callee.uri)
        const ringing = await within(call.progress, 5000, '180 Ringing')
        assert.equal(ringing.status, 180)
        assert.isTrue(call.invite.cancel())
        const final = await within(call.canceled, 5000, 'the end of the canceled INVITE')
        assert.equal(final.status, 487)
        assert.equal(call.invite.state, OutgoingInviteState.Canceled)
        assert.equal(call.invite.request.via[0]?.transport.toLowerCase(), protocol)

        // 0 only when sipp got the CANCEL, sent its 200 and the 487, and got the ACK.
        const outcome = await callee.sipp.done
        assert.equal(outcome.code, 0, callee.sipp.describe(outcome))

        const dialogsGoneAfter = await waitUntil(() => stack.core.dialogCount === 0, 3000)
        assert.equal(stack.core.dialogCount, 0, 'the early dialog ended with the 487')
        assert.isBelow(dialogsGoneAfter, 3000)
        // Over TCP and TLS Timers D and K are zero: the transactions go at once.
        if (protocol !== 'udp') {
          const drained = await waitUntil(() => stack.core.transactionCount === 0, 3000)
          assert.isBelow(drained, 3000, 'no datagram timers on a reliable transport')
        } else {
          assert.isAbove(stack.core.transactionCount, 0, 'over UDP Timer D keeps the INVITE')
          await warpPastTransactionTimers()
          await waitUntil(() => stack.core.transactionCount === 0, DRAIN_MS)
        }
        assert.equal(stack.core.transactionCount, 0, 'every transaction ended after its timers')
      })
    })
    .timeout(60_000)

  test('CANCEL crossing a 200: the late 200 is ACKed and ended with BYE; then nothing left', async ({
    assert,
  }) => {
    const stack = await sipStack()
    await withCallee('uas_cancel_crossing.xml', 'udp', async (callee) => {
      const call = callOut(stack, callee.uri)
      await within(call.progress, 5000, '180 Ringing')
      assert.isTrue(call.invite.cancel())
      const final = await within(call.canceled, 5000, 'the end of the canceled INVITE')
      assert.equal(final.status, 200, 'the 200 crossed the CANCEL')
      assert.equal(call.invite.state, OutgoingInviteState.Canceled)
      assert.equal(call.invite.dialog?.endReason, DialogEndReason.ByeSent)

      // sipp's scenario ends only after it got the ACK and the BYE and answered the BYE.
      const outcome = await callee.sipp.done
      assert.equal(outcome.code, 0, callee.sipp.describe(outcome))

      assert.equal(stack.core.dialogCount, 0, 'the dialog of the late 200 ended with the BYE')
      await warpPastTransactionTimers()
      await waitUntil(() => stack.core.transactionCount === 0, DRAIN_MS)
      assert.equal(stack.core.transactionCount, 0, 'every transaction ended after its timers')
    })
  }).timeout(60_000)
})

test.group('SIP calls: our client against a challenging sipp callee', () => {
  test('{challenge} challenge over {protocol}: auth, 200, ACK, re-INVITE, BYE')
    .with([
      { challenge: 401, protocol: 'udp' },
      { challenge: 407, protocol: 'udp' },
      { challenge: 401, protocol: 'tcp' },
      { challenge: 407, protocol: 'tcp' },
      { challenge: 401, protocol: 'tls' },
      { challenge: 407, protocol: 'tls' },
    ] as const)
    .run(async ({ assert }, { challenge, protocol }) => {
      const stack = await sipStack()
      const credentials =
        challenge === 401
          ? { username: 'alice', password: 'wonderland-401' }
          : { username: 'carrier-user', password: 'carrier-secret-407' }
      const keys = { authuser: 'alice', authpass: 'wonderland-401' }
      await withCallee(
        `uas_auth_${challenge}.xml`,
        protocol,
        async (callee) => {
          const call = callOut(stack, callee.uri, credentials)
          const { dialog, response } = await within(call.accepted, 10_000, 'the 200')
          assert.equal(response.status, 200)
          assert.match(response.body.toString(), /m=audio \d+ RTP\/AVP 0/)
          const sent = call.invite.request.headers.get(
            challenge === 401 ? 'authorization' : 'proxy-authorization'
          )
          assert.match(sent ?? '', new RegExp(`username="${credentials.username}"`))

          const reinvite = await within(
            dialog.reinvite({ description: sdp(2) }),
            10_000,
            'the re-INVITE'
          )
          assert.equal(reinvite.status, 200)
          assert.isTrue(dialog.bye())
          assert.equal(dialog.endReason, DialogEndReason.ByeSent)

          // 0 only when sipp verified the digest (401), matched the Proxy-Authorization fields
          // (407), got both ACKs and answered the BYE.
          const outcome = await callee.sipp.done
          assert.equal(outcome.code, 0, callee.sipp.describe(outcome))

          if (challenge === 407) {
            // sipp cannot verify Proxy-Authorization: recompute the digest from what it received.
            const received = authorizedInviteFromLog(callee.sipp.messages())
            assert.exists(received, 'sipp logged the INVITE with Proxy-Authorization')
            const params = digestParams(received!.header)
            assert.equal(params.username, 'carrier-user')
            assert.equal(params.realm, 'proxy.fluffycall.test')
            assert.equal(params.uri, received!.uri, 'uri is the Request-URI')
            assert.equal(params.qop, 'auth')
            assert.equal(params.nc, '00000001')
            const ha1 = md5('carrier-user:proxy.fluffycall.test:carrier-secret-407')
            const ha2 = md5(`INVITE:${params.uri}`)
            const expected = md5(
              `${ha1}:${params.nonce}:${params.nc}:${params.cnonce}:${params.qop}:${ha2}`
            )
            assert.equal(params.response, expected, 'the digest response is right')
          }
        },
        { keys }
      )
    })
    .timeout(30_000)
})

test.group('SIP calls: sipp calls us', (group) => {
  group.each.teardown(async () => {
    ;(await sipStack()).core.setInviteHandler(undefined)
  })

  test('sipp UAC over {$self}: INVITE, 180, 200 with SDP, ACK, BYE, 200')
    .with(['udp', 'tcp', 'tls'] as const)
    .run(async ({ assert }, protocol) => {
      const stack = await sipStack()
      const ended: DialogEndReason[] = []
      const answered: IncomingInvite[] = []
      stack.core.setInviteHandler((invite) => {
        answered.push(invite)
        assert.isTrue(invite.progress(180))
        setTimeout(() => {
          const dialog = invite.accept({ description: sdp(1) })
          if (dialog) dialog.delegate = { onTerminated: (reason) => ended.push(reason) }
        }, 100)
      })
      let stunnel: Stunnel | undefined
      let target = `127.0.0.1:${localPort(stack, protocol)}`
      if (protocol === 'tls') {
        // sipp speaks TCP to stunnel, which speaks TLS to us.
        const tunnel = await tlsTunnelTo(stack)
        stunnel = tunnel.stunnel
        target = `127.0.0.1:${tunnel.port}`
      }
      let sipp: SippProcess | undefined
      try {
        sipp = await startSipp({
          scenario: 'uac_call.xml',
          transport: protocol === 'udp' ? 'u1' : 't1',
          target,
          timeoutSeconds: 15,
          traceMessages: true,
        })
        const caller = sipp
        await diagnosed(caller, async () => {
          // 0 only when sipp got the 180, a 200 with an SDP answer and our Contact, and a 200
          // to its BYE.
          const outcome = await caller.done
          assert.equal(outcome.code, 0, caller.describe(outcome))
          assert.lengthOf(answered, 1)
          assert.include(answered[0].offer?.body.toString() ?? '', 'PCMA/8000')
          await waitUntil(() => ended.length > 0, 2000)
          assert.deepEqual(ended, [DialogEndReason.ByeReceived])
        })
      } finally {
        sipp?.stop()
        await stunnel?.stop()
      }
    })
    .timeout(30_000)

  test('1,000 calls at 50 calls/s from sipp over {$self} (127.0.0.2): all succeed')
    .with(['udp', 'tcp'] as const)
    .run(async ({ assert }, protocol) => {
      const stack = await sipStack()
      let invites = 0
      stack.core.setInviteHandler((invite) => {
        invites += 1
        invite.accept({ description: sdp(1) })
      })
      const limitedBefore = stack.layer.stats.rateLimited
      const sipp = await startSipp({
        scenario: 'uac_short_call.xml',
        // TCP: every call over sipp's one connection, as a trunk would send them.
        transport: protocol === 'udp' ? 'u1' : 't1',
        localIp: '127.0.0.2',
        target: `127.0.0.1:${localPort(stack, protocol)}`,
        calls: 1000,
        timeoutSeconds: 60,
        traceStats: true,
        extraArgs: ['-r', '50', '-l', '200'],
      })
      try {
        const outcome = await sipp.done
        assert.equal(outcome.code, 0, sipp.describe(outcome))
        const stats = sipp.statistics()
        assert.equal(stats['SuccessfulCall(C)'], '1000', JSON.stringify(stats))
        assert.equal(stats['FailedCall(C)'], '0', JSON.stringify(stats))
        if (protocol === 'tcp') {
          assert.equal(stats['Retransmissions(C)'], '0', 'nothing is retransmitted over TCP')
        }
        assert.equal(invites, 1000)
        assert.equal(stack.layer.stats.rateLimited - limitedBefore, 0, 'nothing was rate limited')
      } finally {
        sipp.stop()
      }
    })
    .timeout(120_000)
})

test.group('SIP calls: lossy path', () => {
  test('a relay drops the first INVITE and the first 200: retransmissions complete the call', async ({
    assert,
  }) => {
    const stack = await sipStack()
    const relay = new LossyUdpRelay(
      '127.0.0.3',
      { address: '127.0.0.1', port: 0 },
      {
        invites: 1,
        inviteOks: 1,
      }
    )
    await relay.start()
    let sipp: SippProcess | undefined
    try {
      sipp = await startSipp({
        scenario: 'uas_answer.xml',
        transport: 'u1',
        keys: { chost: '127.0.0.3', cport: String(relay.port), ctransport: 'udp' },
        timeoutSeconds: 15,
        traceMessages: true,
      })
      relay.peer.port = sipp.port
      const callee = sipp
      await diagnosed(callee, async () => {
        const call = callOut(stack, `sip:service@127.0.0.3:${relay.port}`)
        const { dialog } = await within(call.accepted, 10_000, 'the 200 through the relay')
        assert.isTrue(dialog.bye())
        const outcome = await callee.done
        assert.equal(outcome.code, 0, callee.describe(outcome))

        assert.equal(relay.seen.invitesDropped, 1)
        assert.isAtLeast(relay.seen.invites, 2, 'our INVITE was retransmitted (Timer A)')
        assert.equal(relay.seen.inviteOksDropped, 1)
        assert.isAtLeast(relay.seen.inviteOks, 2, 'sipp retransmitted its 200')
      })
    } finally {
      sipp?.stop()
      await relay.close()
    }
  }).timeout(30_000)
})
