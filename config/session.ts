import env from '#start/env'
import app from '@adonisjs/core/services/app'
import { defineConfig, stores } from '@adonisjs/session'
import { redisEnabled } from '#config/redis'
import { keepFlashForPages } from '#core/flash_for_pages'

/**
 * Sessions live on the server: the cookie carries only the session id, so an ended session
 * (logout, revocation, password change) is over for every copy of the cookie. The database
 * store (table `sessions`) by default, Redis when REDIS_HOST is set; `memory` only in tests.
 * Logged-in sessions are also registered in `web_sessions` (WebSessionService). A script's request
 * (JSON, not a page) leaves the flash messages to the page they were meant for.
 */
const sessionConfig = keepFlashForPages(
  defineConfig({
    enabled: true,
    cookieName: 'fluffycall-session',
    clearWithBrowser: true,
    age: '8h',
    cookie: {
      path: '/',
      httpOnly: true,
      secure: app.inProduction,
      sameSite: 'lax',
    },
    store: env.get('SESSION_DRIVER') ?? (redisEnabled ? 'redis' : 'database'),
    stores: {
      database: stores.database({ tableName: 'sessions' }),
      redis: stores.redis({ connection: 'main' }),
    },
  })
)

export default sessionConfig
