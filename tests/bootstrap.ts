import { assert } from '@japa/assert'
import app from '@adonisjs/core/services/app'
import type { Config } from '@japa/runner/types'
import { pluginAdonisJS } from '@japa/plugin-adonisjs'
import { apiClient } from '@japa/api-client'
import testUtils from '@adonisjs/core/services/test_utils'
import { browserClient } from '@japa/browser-client'
import { sessionApiClient } from '@adonisjs/session/plugins/api_client'
import { authApiClient } from '@adonisjs/auth/plugins/api_client'
import { shieldApiClient } from '@adonisjs/shield/plugins/api_client'
import { sessionBrowserClient } from '@adonisjs/session/plugins/browser_client'
import { authBrowserClient } from '@adonisjs/auth/plugins/browser_client'
import { chromium } from 'playwright-core'
import { spec } from '@japa/runner/reporters'
import { installRbacDefaults } from '#accounts/services/rbac_defaults'
import { summaryReporter } from '#tests/support/summary_reporter'
import { CHROMIUM, CHROMIUM_ARGS } from '#tests/support/chromium'
import { resetCounters } from '#tests/support/counters'

// An unhandled rejection is reported at the end of the run without its test: deep stacks so that
// its async frames reach our code past knex's and Lucid's (the default 10 stop inside them)
Error.stackTraceLimit = 40

export const plugins: Config['plugins'] = [
  assert(),
  pluginAdonisJS(app),
  apiClient(),
  sessionApiClient(app),
  shieldApiClient(),
  authApiClient(app),
  browserClient({
    runInSuites: ['browser'],
    // Our visitors' browsers: German first (headless Chromium would otherwise send en-US)
    contextOptions: { locale: 'de-DE' },
    launcher: async (options) =>
      chromium.launch({
        ...options,
        executablePath: CHROMIUM,
        headless: true,
        args: CHROMIUM_ARGS,
      }),
  }),
  sessionBrowserClient(app),
  authBrowserClient(app),
]

export const reporters: Config['reporters'] = {
  activated: ['spec', 'summary'],
  list: [spec(), summaryReporter()],
}

export const runnerHooks: Required<Pick<Config, 'setup' | 'teardown'>> = {
  setup: [
    async () => {
      // Every run starts from an empty schema, whatever an earlier (maybe aborted) run left.
      // Migrated without Lucid's advisory lock: this process alone owns the test database, and on
      // PostgreSQL Lucid takes and releases that lock with two pool queries that may land on two
      // connections, so a busy run failed with "unable to release database lock". (Not through
      // migration:fresh --disable-locks: it hands that flag to db:wipe, which refuses it.)
      const ace = await app.container.make('ace')
      for (const [command, args] of [
        ['db:wipe', ['--force']],
        ['migration:run', ['--force', '--disable-locks']],
      ] as const) {
        const step = await ace.exec(command, [...args])
        if (step.exitCode !== 0) throw step.error ?? new Error(`${command} failed`)
      }
      await installRbacDefaults()
      // Counters (Redis: this run's REDIS_PREFIX only) would outlive the schema while ids repeat.
      await resetCounters()
    },
  ],
  teardown: [],
}

export const configureSuite: Config['configureSuite'] = (suite) => {
  if (['browser', 'functional', 'e2e'].includes(suite.name)) {
    return suite.setup(async () => {
      const close = await testUtils.httpServer().start()
      // The SIP WebSocket lives on the app's HTTP server; each suite gets a new one.
      const server = await app.container.make('server')
      const sip = await app.container.make('sip.transport')
      sip.attachHttpServer(server.getNodeServer()!)
      // Docked web phones a failed test left open would keep the HTTP server from closing.
      return async () => {
        sip.webSocket?.closeAllConnections()
        await close()
      }
    })
  }
}
