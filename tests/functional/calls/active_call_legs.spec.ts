import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import testUtils from '@adonisjs/core/services/test_utils'
import { DatabaseActiveCallLegs } from '#calls/b2bua/active_call_legs'
import type { DialogSnapshot } from '#sip'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { finishedCdr } from '#tests/support/calls'

/** The kept dialogs of answered calls follow their CSeq, so a recovered BYE is never too low. */
function snapshot(callId: string, localTag: string, localSeq: number): DialogSnapshot {
  return {
    callId,
    localTag,
    remoteTag: 'theirs',
    localUri: '<sip:+4930111222@127.0.0.1>',
    remoteUri: '<sip:+4930333444@127.0.0.1>',
    remoteTarget: 'sip:carrier@127.0.0.1:5099',
    routeSet: [],
    localSeq,
    protocol: 'udp',
    host: '127.0.0.1',
    port: 5099,
  }
}

test.group('Active call legs', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test("a leg's CSeq moves on, never back, and only that leg's", async ({ assert }) => {
    const company = await makeCompany('active')
    const record = await finishedCdr(company, await makeUser('member', company), DateTime.utc(), {
      endedAt: null,
      nodeId: 'legs-node',
    })
    const legs = new DatabaseActiveCallLegs()
    await legs.keep(record.id, 'legs-node', [
      { party: 'carrier', snapshot: snapshot('carrier-leg@test', 'ours', 1) },
      { party: 'user', snapshot: snapshot('phone-leg@test', 'ours-too', 4000) },
    ])

    await legs.advance(record.id, 'carrier-leg@test', 'ours', 3)
    await legs.advance(record.id, 'carrier-leg@test', 'ours', 2)
    // Another dialog's tag on the same Call-ID is not this leg
    await legs.advance(record.id, 'carrier-leg@test', 'someone-else', 90)

    const kept = await legs.ofNode('legs-node')
    assert.deepEqual(
      kept.map((leg) => [leg.party, leg.snapshot().localSeq]),
      [
        ['carrier', 3],
        ['user', 4000],
      ]
    )
    await legs.forget(record.id)
    // A request sent while the call ends finds no row and changes nothing
    await legs.advance(record.id, 'carrier-leg@test', 'ours', 9)
    assert.lengthOf(await legs.ofNode('legs-node'), 0)
  })
})
