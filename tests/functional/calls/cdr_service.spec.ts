import { test } from '@japa/runner'
import emitter from '@adonisjs/core/services/emitter'
import db from '@adonisjs/lucid/services/db'
import testUtils from '@adonisjs/core/services/test_utils'
import { DateTime } from 'luxon'
import CdrService from '#calls/b2bua/cdr_service'
import CallRecord from '#calls/models/call_record'
import { DatabaseActiveCallLegs, type CallLegToKeep } from '#calls/b2bua/active_call_legs'
import { cdrEndContributor, contributeToCdrEnd } from '#calls/b2bua/cdr_end_writes'
import { sqlTime } from '#core/sql_time'
import { statementsDuring } from '#tests/support/database'
import { makeCompany } from '#tests/support/accounts'
import '#calls/events'

/**
 * The CDR is in the database before anybody hears of it (issue 17): when call:answered and
 * call:ended go out, the row already shows the answer and the end (the B2BUA forwards the
 * caller's 200 only after `answered` resolved: tests/unit/calls/b2bua/call_session.spec.ts).
 */
test.group('CdrService: written before announced', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('call:answered and call:ended see the row answered and ended', async ({
    assert,
    cleanup,
  }) => {
    const company = await makeCompany('active')
    const cdr = new CdrService()
    const seen: Array<{ event: string; answered: boolean; ended: boolean }> = []
    const look =
      (event: string) =>
      async ({ record }: { record: { id: number } }) => {
        const row = await db.from('call_records').where('id', record.id).firstOrFail()
        seen.push({ event, answered: row.answered_at !== null, ended: row.ended_at !== null })
      }
    const onAnswered = look('answered')
    const onEnded = look('ended')
    emitter.on('call:answered', onAnswered)
    emitter.on('call:ended', onEnded)
    cleanup(() => {
      emitter.off('call:answered', onAnswered)
      emitter.off('call:ended', onEnded)
    })

    const record = await cdr.start({
      companyId: company.id,
      userId: null,
      direction: 'outbound',
      emergency: false,
      callerNumber: null,
      calleeNumber: '+4930123456',
      callerWithheld: false,
      region: 'eu',
      nodeId: 'cdr-test',
    })
    await cdr.answered(record)
    await cdr.end(record, { cause: 'answered_normal', sipStatus: 200, hungUpBy: 'caller' })
    await cdr.end(record, { cause: 'answered_normal', sipStatus: 200, hungUpBy: 'caller' })
    // The listeners run after the write, not awaited by it: wait for both (bounded)
    for (let turn = 0; turn < 200 && seen.length < 2; turn++)
      await new Promise((resolve) => setTimeout(resolve, 10))
    assert.deepEqual(seen, [
      { event: 'answered', answered: true, ended: false },
      { event: 'ended', answered: true, ended: true },
    ])
  })
})

const cdrStart = (companyId: number | null) => ({
  companyId,
  userId: null,
  direction: 'outbound' as const,
  emergency: false,
  callerNumber: '+4930111222',
  calleeNumber: '+4930123456',
  callerWithheld: false,
  region: 'eu',
  nodeId: 'cdr-lean',
})

function dialog(callId: string): CallLegToKeep {
  return {
    party: 'carrier',
    snapshot: {
      callId,
      localTag: 'ours',
      remoteTag: 'theirs',
      localUri: '<sip:+4930111222@127.0.0.1>',
      remoteUri: '<sip:+4930123456@127.0.0.1>',
      remoteTarget: 'sip:carrier@127.0.0.1:5099',
      routeSet: [],
      localSeq: 1,
      protocol: 'udp',
      host: '127.0.0.1',
      port: 5099,
    },
  }
}

const onPostgres = () => db.connection().dialect.name === 'postgres'

/**
 * The CDR's writes without Lucid's model path (issue 17): the record is the model instance the
 * listeners use, persisted and clean; the call's kept dialogs go with the answer and the end (on
 * PostgreSQL in the same statement).
 */
test.group('CdrService: the answer and the end with the kept dialogs', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => {
    // These tests count statements: the call events' listeners and the billing contributor's
    // quote run none of theirs meanwhile
    emitter.fake(['call:attempted', 'call:answered', 'call:ended'])
    const registered = cdrEndContributor()
    contributeToCdrEnd(null)
    return () => {
      contributeToCdrEnd(registered)
      emitter.restore()
    }
  })

  test('the record is as create() left it; answer and end carry the legs in and out', async ({
    assert,
  }) => {
    const company = await makeCompany('active')
    const cdr = new CdrService()
    const legs = new DatabaseActiveCallLegs()
    const record = await cdr.start(cdrStart(company.id))
    assert.isTrue(record.$isPersisted)
    assert.deepEqual(record.$dirty, {})
    const row = await CallRecord.findOrFail(record.id)
    assert.equal(row.uuid, record.uuid)
    assert.equal(row.calleeNumber, '+4930123456')
    assert.isFalse(row.endToEndEncrypted)
    assert.isNull(row.answeredAt)
    // A later change is the only dirty attribute, as after a save()
    record.carrierName = 'lean-carrier'
    assert.deepEqual(Object.keys(record.$dirty), ['carrierName'])

    const answer = await statementsDuring(() =>
      cdr.answered(record, legs.keeping(record.id, 'cdr-lean', [dialog('a@x'), dialog('b@x')])!)
    )
    assert.lengthOf(answer, onPostgres() ? 1 : 2)
    assert.deepEqual(record.$dirty, {})
    const answered = await CallRecord.findOrFail(record.id)
    assert.isNotNull(answered.answeredAt)
    assert.equal(answered.carrierName, 'lean-carrier')
    assert.lengthOf(await legs.ofNode('cdr-lean'), 2)

    const end = await statementsDuring(() =>
      cdr.end(
        record,
        { cause: 'answered_normal', sipStatus: 200, hungUpBy: 'caller' },
        legs.forgetting(record.id)
      )
    )
    assert.lengthOf(end, onPostgres() ? 1 : 2)
    const ended = await CallRecord.findOrFail(record.id)
    assert.equal(ended.disconnectCause, 'answered_normal')
    assert.equal(ended.hungUpBy, 'caller')
    assert.lengthOf(await legs.ofNode('cdr-lean'), 0)
    assert.deepEqual(record.$dirty, {})
  })

  test('a second end changes nothing on the record, and its legs still go', async ({ assert }) => {
    const company = await makeCompany('active')
    const cdr = new CdrService()
    const legs = new DatabaseActiveCallLegs()
    const record = await cdr.start(cdrStart(company.id))
    await cdr.answered(record)
    await cdr.end(record, { cause: 'answered_normal', sipStatus: 200, hungUpBy: 'callee' })
    // A leg kept after the end (a transfer that overlapped it): the next end drops it
    await legs.keep(record.id, 'cdr-lean', [dialog('late@x')])
    const again = await statementsDuring(() =>
      cdr.end(
        record,
        { cause: 'lost', sipStatus: null, hungUpBy: 'system' },
        legs.forgetting(record.id)
      )
    )
    assert.lengthOf(again, 1)
    assert.match(again[0], /^delete from active_call_legs/)
    const row = await CallRecord.findOrFail(record.id)
    assert.equal(row.disconnectCause, 'answered_normal')
    assert.equal(row.hungUpBy, 'callee')
    assert.lengthOf(await legs.ofNode('cdr-lean'), 0)
  })

  test("the contribution is written once: with the end, and not over another writer's", async ({
    assert,
  }) => {
    const company = await makeCompany('active')
    const cdr = new CdrService()
    const legs = new DatabaseActiveCallLegs()
    let written = 0
    contributeToCdrEnd(async () => ({
      columns: { cost_micro: 42_000, rated_at: sqlTime(DateTime.utc()) },
      onceColumn: 'rated_at',
      written: () => (written += 1),
    }))
    const first = await cdr.start(cdrStart(company.id))
    await cdr.answered(first, legs.keeping(first.id, 'cdr-lean', [dialog('first@x')])!)
    await cdr.end(
      first,
      { cause: 'answered_normal', sipStatus: 200, hungUpBy: 'caller' },
      legs.forgetting(first.id)
    )
    await cdr.end(first, { cause: 'answered_normal', sipStatus: 200, hungUpBy: 'caller' })
    assert.equal(written, 1)
    assert.equal((await CallRecord.findOrFail(first.id)).costMicro, 42_000)

    // Rated by another writer before this end: the end is written alone, the legs go
    const second = await cdr.start(cdrStart(company.id))
    await cdr.answered(second, legs.keeping(second.id, 'cdr-lean', [dialog('second@x')])!)
    await db
      .from('call_records')
      .where('id', second.id)
      .update({ cost_micro: 7, rated_at: sqlTime(DateTime.utc()) })
    await cdr.end(
      second,
      { cause: 'answered_normal', sipStatus: 200, hungUpBy: 'callee' },
      legs.forgetting(second.id)
    )
    assert.equal(written, 1)
    const row = await CallRecord.findOrFail(second.id)
    assert.equal(row.costMicro, 7)
    assert.equal(row.hungUpBy, 'callee')
    assert.isNotNull(row.endedAt)
    assert.lengthOf(await legs.ofNode('cdr-lean'), 0)
  })
})

/**
 * A failing companion (a leg row the table refuses). Outside a global transaction: on PostgreSQL
 * a failed statement would end it. Its own rows, deleted afterwards.
 */
test.group('CdrService: the answer and its legs, both or neither', () => {
  test('PostgreSQL writes neither; SQLite wrote the answer first, as before', async ({
    assert,
    cleanup,
  }) => {
    const cdr = new CdrService()
    const record = await cdr.start(cdrStart(null))
    cleanup(async () => {
      await db.from('active_call_legs').where('call_record_id', record.id).delete()
      await db.from('call_records').where('id', record.id).delete()
    })
    // node_id is NOT NULL: the legs' insert fails
    const refused = {
      sql: 'insert into active_call_legs (call_record_id) values (?)',
      bindings: [record.id],
    }
    await assert.rejects(() => cdr.answered(record, refused))
    const row = await db.from('call_records').where('id', record.id).firstOrFail()
    assert.equal(row.answered_at !== null, !onPostgres())
    const kept = await db.from('active_call_legs').where('call_record_id', record.id)
    assert.lengthOf(kept, 0)
  })
})
