import { test } from '@japa/runner'
import emitter from '@adonisjs/core/services/emitter'
import db from '@adonisjs/lucid/services/db'
import testUtils from '@adonisjs/core/services/test_utils'
import CdrService from '#calls/b2bua/cdr_service'
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
