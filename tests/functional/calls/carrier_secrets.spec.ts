import { randomBytes } from 'node:crypto'
import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import app from '@adonisjs/core/services/app'
import db from '@adonisjs/lucid/services/db'
import testUtils from '@adonisjs/core/services/test_utils'
import CarrierManager from '#calls/carriers/carrier_manager'
import CarrierLifecycleService from '#calls/services/carrier_lifecycle_service'
import { makeUser } from '#tests/support/accounts'
import { enableTwoFactor } from '#tests/support/two_factor'
import { fakeCarriers } from '#tests/support/carriers'
import { auditMark, auditSince } from '#tests/support/audit'
import { logLinesUntilMarker } from '#tests/support/log_file'

/** Every row of every table, as text: where a plain secret would show up if it were stored. */
async function rawDatabase() {
  // Through db.rawQuery, so the query joins the test's global transaction (SQLite has one connection).
  const postgres = db.connection().dialect.name === 'postgres'
  const result = await db.rawQuery(
    postgres
      ? "select table_name as name from information_schema.tables where table_schema = 'public'"
      : "select name from sqlite_master where type = 'table'"
  )
  const tables = (postgres ? result.rows : result) as Array<{ name: string }>
  const dumps: string[] = []
  for (const { name } of tables) dumps.push(JSON.stringify(await db.from(name).select('*')))
  return dumps.join('\n')
}

test.group('Carrier credentials stay secret', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => fakeCarriers())

  test('a canary password is used by the plugin but absent from pages, JSON, audit, log lines and the raw database', async ({
    client,
    assert,
  }) => {
    const canary = `canary-${randomBytes(8).toString('hex')}`
    const canaryUser = `user-${randomBytes(6).toString('hex')}`
    const mark = await auditMark()
    const admin = await makeUser('superadmin')
    await enableTwoFactor(admin)
    const lifecycle = await app.container.make(CarrierLifecycleService)
    await lifecycle.announce('eu_alpha', admin, '127.0.0.1', DateTime.utc())
    await lifecycle.activate('eu_alpha', admin, '127.0.0.1')

    const saved = await client
      .put('/admin/carriers/eu_alpha/credentials')
      .form({ username: canaryUser, password: canary })
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    saved.assertStatus(302)

    // The plugin really got it: it came out of the encrypted store.
    const plugin = await (await app.container.make(CarrierManager)).use('eu_alpha')
    assert.equal(
      plugin.profile.auth.method === 'registration' && plugin.profile.auth.password,
      canary
    )

    const pages = [
      ['/admin/carriers', admin],
      ['/admin/carriers/eu_alpha', admin],
      ['/admin/audit', admin],
      ['/transparency/sub-processors', null],
      ['/transparency/sub-processors.json', null],
      ['/transparency/feed.atom', null],
      ['/transparency/history', null],
      ['/transparency/transfers', null],
      ['/transparency/sccs', null],
      ['/transparency/toms', null],
      ['/privacy', null],
    ] as const
    for (const [url, user] of pages) {
      const request = client.get(url)
      const response = user ? await request.loginAs(user) : await request
      response.assertStatus(200)
      assert.notInclude(response.text(), canary, url)
    }
    const edit = await client.get('/admin/carriers/eu_alpha').loginAs(admin)
    assert.include(edit.text(), 'Zugangsdaten sind hinterlegt.')
    assert.notInclude(edit.text(), canaryUser, 'the stored username is not echoed back either')

    const entries = await auditSince(mark).where('action', 'carrier.credentials.changed')
    assert.lengthOf(entries, 1)
    assert.deepEqual(entries[0].details, { fields: ['username', 'password'] })
    const allAudit = JSON.stringify(await auditSince(mark))
    assert.notInclude(allAudit, canary)

    const raw = await rawDatabase()
    const state = await db.from('carrier_states').where('carrier_name', 'eu_alpha').firstOrFail()
    assert.isString(state.credentials_sealed)
    assert.include(raw, state.credentials_sealed, 'the dump covers the sealed credentials')
    assert.notInclude(raw, canary)
    assert.notInclude(raw, canaryUser)

    // Every log line of this process so far: the credential change was logged, its values not.
    const lines = await logLinesUntilMarker()
    assert.match(lines, /"carrier":"eu_alpha".*carrier credentials changed/)
    assert.notInclude(lines, canary)
    assert.notInclude(lines, canaryUser)
  })
})
