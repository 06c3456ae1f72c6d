import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import emitter from '@adonisjs/core/services/emitter'
import encryption from '@adonisjs/core/services/encryption'
import testUtils from '@adonisjs/core/services/test_utils'
import { configProvider } from '@adonisjs/core'
import { CookieClient } from '@adonisjs/core/http'
import db from '@adonisjs/lucid/services/db'
import { SessionCollection } from '@adonisjs/session'
import SessionMiddleware from '@adonisjs/session/session_middleware'
import type { ResolvedSessionConfig } from '@adonisjs/session/types'
import { redisEnabled } from '#config/redis'
import { makeUser } from '#tests/support/accounts'
import { BrowserSession } from '#tests/support/browser_session'

/**
 * The stores production and bin/start use (config/session.ts: `database`, `redis` with
 * REDIS_HOST), proven through HTTP. The tests run on the memory store (.env.test), so each group
 * swaps the session middleware and the session collection to the store under test, from the same
 * config. The Redis group runs when REDIS_HOST is set (bin/test --services) and is reported as
 * skipped otherwise.
 */

const COOKIE = 'fluffycall-session'

/** The session id inside the browser's signed session cookie. */
function sessionIdOf(browser: BrowserSession): string {
  return new CookieClient(encryption.use()).parse(
    COOKIE,
    decodeURIComponent(browser.cookie(COOKIE)!)
  )
}

async function storeData(sessionId: string) {
  return (await app.container.make(SessionCollection)).get(sessionId)
}

for (const store of ['database', 'redis'] as const) {
  const skip = store === 'redis' && !redisEnabled
  const reason = 'needs Redis: set REDIS_HOST (bin/services starts it)'

  test.group(`Session store: ${store}`, (group) => {
    group.each.setup(() => testUtils.db().withGlobalTransaction())
    group.each.setup(async () => {
      const resolved = await configProvider.resolve<ResolvedSessionConfig>(
        app,
        app.config.get('session')
      )
      const config = { ...resolved!, store }
      app.container.swap(SessionMiddleware, () => new SessionMiddleware(config, emitter))
      app.container.swap(SessionCollection, () => new SessionCollection(config))
      return () => {
        app.container.restore(SessionMiddleware)
        app.container.restore(SessionCollection)
      }
    })

    test('the cookie carries only the id; the data lives in the store and logout removes it', async ({
      assert,
    }) => {
      const user = await makeUser('member')
      const browser = await new BrowserSession().logIn(user)
      const stolen = browser.copy()
      const sessionId = sessionIdOf(browser)
      assert.match(sessionId, /^[0-9a-f-]{36}$/, 'the cookie holds a random id, no session data')
      assert.isBelow(browser.cookie(COOKIE)!.length, 200)
      assert.isNotNull(await storeData(sessionId), 'the session data is in the store')
      if (store === 'database')
        assert.exists(await db.from('sessions').where('id', sessionId).first())
      assert.equal((await stolen.page('/app')).status, 200)

      await browser.post('/logout')
      assert.isNull(await storeData(sessionId), 'the logged-out id is gone from the store')
      const again = await stolen.page('/app')
      assert.equal(`${again.status} ${again.location}`, '302 /login')
    }).skip(skip, reason)

    test('a session revoked from another browser loses its store data at once', async ({
      assert,
    }) => {
      const user = await makeUser('member')
      const mine = await new BrowserSession().logIn(user)
      const other = await new BrowserSession().logIn(user)
      const otherId = sessionIdOf(other)
      assert.isNotNull(await storeData(otherId))

      await mine.page('/account/security')
      await mine.post('/account/sessions', {}, 'DELETE')
      assert.isNull(await storeData(otherId))
      const page = await other.page('/app')
      assert.equal(`${page.status} ${page.location}`, '302 /login')
    }).skip(skip, reason)
  })
}

test.group('Session store: configuration', () => {
  test('.env.example sets no store, so bin/start runs on the database store', async ({
    assert,
  }) => {
    const { readFile } = await import('node:fs/promises')
    const example = await readFile(app.makePath('.env.example'), 'utf8')
    assert.notMatch(example, /^SESSION_DRIVER=/m)
  })
})
