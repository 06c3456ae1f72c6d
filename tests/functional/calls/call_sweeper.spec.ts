import dgram from 'node:dgram'
import { randomBytes } from 'node:crypto'
import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import app from '@adonisjs/core/services/app'
import db from '@adonisjs/lucid/services/db'
import testUtils from '@adonisjs/core/services/test_utils'
import type Company from '#accounts/models/company'
import CallRecord from '#calls/models/call_record'
import ActiveCallLeg from '#calls/models/active_call_leg'
import CallSweeper, { type SweptNode } from '#calls/b2bua/call_sweeper'
import CdrService from '#calls/b2bua/cdr_service'
import { sqlTime } from '#core/sql_time'
import { makeCompany } from '#tests/support/accounts'

/**
 * Every CDR closes: the sweeper closes the open CDRs of calls that no longer run on its node, and
 * those of nodes that have gone silent, whose calls' legs (carrier and user) get their BYE. Time is
 * passed in.
 */
const NOW = DateTime.fromISO('2026-06-01T12:00:00Z', { zone: 'utc' })

async function openCdr(company: Company, nodeId: string, startedAt: DateTime) {
  return CallRecord.create({
    uuid: `${randomBytes(8).toString('hex')}-sweep`,
    companyId: company.id,
    userId: null,
    direction: 'outbound',
    emergency: false,
    callerNumber: '+4930111222',
    calleeNumber: '+4930333444',
    callerWithheld: false,
    region: 'eu',
    startedAt,
    answeredAt: null,
    endedAt: null,
    costCents: null,
    nodeId,
  })
}

async function noted(nodeId: string, at: DateTime) {
  await db.table('call_nodes').insert({ node_id: nodeId, last_seen_at: sqlTime(at) })
}

function sweeperOf(node: SweptNode, nodeId = 'sweep-self') {
  return new CallSweeper(node, new CdrService(), {
    nodeId,
    nodeLostAfterSeconds: 300,
    setupGraceSeconds: 120,
  })
}

test.group('Call sweeper', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('closes the open CDRs of its own calls that no longer run, never a live or a young one', async ({
    assert,
  }) => {
    const company = await makeCompany('active')
    const gone = await openCdr(company, 'sweep-self', NOW.minus({ minutes: 10 }))
    const live = await openCdr(company, 'sweep-self', NOW.minus({ minutes: 10 }))
    const young = await openCdr(company, 'sweep-self', NOW.minus({ seconds: 30 }))
    const node: SweptNode = { isLive: (uuid) => uuid === live.uuid, endCallsOfNode: async () => 0 }

    const result = await sweeperOf(node).sweep(NOW)
    assert.equal(result.lost, 1)
    await Promise.all([gone.refresh(), live.refresh(), young.refresh()])
    assert.equal(gone.disconnectCause, 'lost')
    assert.equal(gone.hungUpBy, 'system')
    assert.isNotNull(gone.endedAt)
    assert.isNull(live.endedAt)
    assert.isNull(young.endedAt)
    const note = await db.from('call_nodes').where('node_id', 'sweep-self').first()
    assert.exists(note, 'the node noted that it lives')
  })

  test("a node silent for longer than the limit is lost: its CDRs closed as node_lost, its carrier and user legs get BYE (the user's through the front of its route set), by one node only", async ({
    assert,
  }) => {
    const company = await makeCompany('active')
    const b2bua = await app.container.make('calls.b2bua')
    // The lost node's carrier: a plain socket that records the BYE.
    const carrier = dgram.createSocket('udp4')
    const received: string[] = []
    carrier.on('message', (bytes) => received.push(bytes.toString()))
    await new Promise<void>((resolve) => carrier.bind(0, '127.0.0.1', () => resolve()))
    // The SIP front (Kamailio) that record-routed the user's phone's dialog.
    const front = dgram.createSocket('udp4')
    const fronted: string[] = []
    front.on('message', (bytes) => fronted.push(bytes.toString()))
    await new Promise<void>((resolve) => front.bind(0, '127.0.0.1', () => resolve()))
    try {
      await noted('sweep-lost', NOW.minus({ minutes: 6 }))
      await noted('sweep-alive', NOW.minus({ minutes: 1 }))
      const answered = await openCdr(company, 'sweep-lost', NOW.minus({ minutes: 20 }))
      const ringing = await openCdr(company, 'sweep-lost', NOW.minus({ minutes: 7 }))
      const other = await openCdr(company, 'sweep-alive', NOW.minus({ minutes: 20 }))
      await ActiveCallLeg.create({
        callRecordId: answered.id,
        nodeId: 'sweep-lost',
        callId: 'lost-call@fluffycall',
        localTag: 'ours',
        remoteTag: 'theirs',
        localUri: '<sip:+4930111222@127.0.0.1>',
        remoteUri: '<sip:+4930333444@127.0.0.1>',
        remoteTarget: `sip:carrier@127.0.0.1:${carrier.address().port}`,
        routeSet: '[]',
        localSeq: 1,
        protocol: 'udp',
        host: '127.0.0.1',
        port: carrier.address().port,
      })
      await ActiveCallLeg.create({
        callRecordId: answered.id,
        nodeId: 'sweep-lost',
        party: 'user',
        callId: 'lost-phone@fluffycall',
        localTag: 'ours-too',
        remoteTag: 'phone',
        localUri: '<sip:+4930333444@fluffycall.test>',
        remoteUri: '<sip:desk@fluffycall.test>',
        remoteTarget: 'sip:desk@127.0.0.9:5099',
        routeSet: JSON.stringify([`<sip:127.0.0.1:${front.address().port};lr>`]),
        localSeq: 1,
        protocol: 'udp',
        host: '127.0.0.1',
        port: front.address().port,
      })

      // Two nodes sweep at the same time: exactly one takes the lost node.
      const node: SweptNode = {
        isLive: () => false,
        endCallsOfNode: (id, cause) => b2bua.endCallsOfNode(id, cause),
      }
      const [first, second] = await Promise.all([
        sweeperOf(node, 'sweep-self').sweep(NOW),
        sweeperOf(node, 'sweep-peer').sweep(NOW),
      ])
      assert.deepEqual([...first.lostNodes, ...second.lostNodes], ['sweep-lost'])

      await Promise.all([answered.refresh(), ringing.refresh(), other.refresh()])
      assert.equal(answered.disconnectCause, 'node_lost')
      assert.equal(ringing.disconnectCause, 'node_lost')
      assert.isNull(other.endedAt, 'a node that spoke a minute ago is not lost')
      assert.lengthOf(await ActiveCallLeg.query().where('call_record_id', answered.id), 0)
      const bye = (texts: string[]) => texts.find((text) => text.startsWith('BYE '))
      const deadline = Date.now() + 3000
      while ((!bye(received) || !bye(fronted)) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20))
      assert.match(bye(received) ?? '', /Call-ID: lost-call@fluffycall/)
      // The phone's BYE goes to the front, addressed to the phone, with the front as its Route.
      const phoneBye = bye(fronted) ?? ''
      assert.match(phoneBye, /^BYE sip:desk@127\.0\.0\.9:5099 SIP\/2\.0/)
      assert.match(phoneBye, /Call-ID: lost-phone@fluffycall/)
      assert.match(phoneBye, new RegExp(`Route: <sip:127\\.0\\.0\\.1:${front.address().port};lr>`))
      assert.match(phoneBye, /CSeq: 2 BYE/)
      assert.equal(answered.hungUpBy, 'system')
    } finally {
      carrier.close()
      front.close()
    }
  })

  test('open CDRs of a node that never noted itself are judged by their age', async ({
    assert,
  }) => {
    const company = await makeCompany('active')
    const old = await openCdr(company, 'sweep-legacy', NOW.minus({ minutes: 30 }))
    const node: SweptNode = {
      isLive: () => false,
      endCallsOfNode: (id, cause) =>
        app.container.make('calls.b2bua').then((b) => b.endCallsOfNode(id, cause)),
    }
    const sweeper = sweeperOf(node)
    await sweeper.sweep(NOW)
    await old.refresh()
    assert.equal(old.disconnectCause, 'node_lost')
  })
})
