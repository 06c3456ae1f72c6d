import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import emitter from '@adonisjs/core/services/emitter'
import testUtils from '@adonisjs/core/services/test_utils'
import db from '@adonisjs/lucid/services/db'
import { configProvider } from '@adonisjs/core'
import { SessionCollection } from '@adonisjs/session'
import SessionMiddleware from '@adonisjs/session/session_middleware'
import type { ResolvedSessionConfig } from '@adonisjs/session/types'
import encryption from '@adonisjs/core/services/encryption'
import { CookieClient } from '@adonisjs/core/http'
import { makeUser } from '#tests/support/accounts'
import { BrowserSession } from '#tests/support/browser_session'

/**
 * The store production and bin/start use (config/session.ts: `database` unless REDIS_HOST), proven
 * through HTTP: the tests run on the memory store (.env.test), so this group swaps the session
 * middleware and the session collection to the database store of the same config.
 */
const COOKIE = 'fluffycall-session'

/** The session id inside the browser's signed session cookie. */
function sessionIdOf(browser: BrowserSession): string {
  return new CookieClient(encryption.use()).parse(COOKIE, decodeURIComponent(browser.cookie(COOKIE)!))
}

test.group('Session store: database', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(async () => {
    const resolved = await configProvider.resolve<ResolvedSessionConfig>(app, app.config.get('session'))
    const database = { ...resolved!, store: 'database' as const }
    app.container.swap(SessionMiddleware, () => new SessionMiddleware(database, emitter))
    app.container.swap(SessionCollection, () => new SessionCollection(database))
    return () => {
      app.container.restore(SessionMiddleware)
      app.container.restore(SessionCollection)
    }
  })

  test('the cookie carries only the id; the data lives in the sessions table and logout removes it', async ({ assert }) => {
    const user = await makeUser('member')
    const browser = await new BrowserSession().logIn(user)
    const stolen = browser.copy()
    const cookie = browser.cookie(COOKIE)!
    const sessionId = sessionIdOf(browser)
    const row = await db.from('sessions').where('id', sessionId).first()
    assert.exists(row, `no sessions row for the cookie's id ${sessionId}`)
    assert.match(sessionId, /^[0-9a-f-]{36}$/, 'the cookie holds a random id, no session data')
    assert.isBelow(cookie.length, 200)
    assert.equal((await stolen.page('/app')).status, 200)

    await browser.post('/logout')
    assert.notExists(await db.from('sessions').where('id', sessionId).first(), 'the logged-out id is gone from the store')
    const again = await stolen.page('/app')
    assert.equal(`${again.status} ${again.location}`, '302 /login')
  })

  test('a session revoked from another browser loses its store data at once', async ({ assert }) => {
    const user = await makeUser('member')
    const mine = await new BrowserSession().logIn(user)
    const other = await new BrowserSession().logIn(user)
    const otherId = sessionIdOf(other)
    assert.exists(await db.from('sessions').where('id', otherId).first())

    await mine.page('/account/security')
    await mine.post('/account/sessions', {}, 'DELETE')
    assert.notExists(await db.from('sessions').where('id', otherId).first())
    const page = await other.page('/app')
    assert.equal(`${page.status} ${page.location}`, '302 /login')
  })
})
