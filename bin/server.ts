/*
 * server entry point. bin/start (the newcomer's command) ends up here through `node ace serve` or
 * `node bin/server.js` in a production build.
 */
// All times are UTC: stored timestamps and luxon values agree whatever the machine's zone.
process.env.TZ = 'UTC'
await import('reflect-metadata')
const { Ignitor, prettyPrintError } = await import('@adonisjs/core')
const { default: lifecycle } = await import('#core/services/lifecycle')

const APP_ROOT = new URL('../', import.meta.url)

const IMPORTER = (filePath: string) => {
  if (filePath.startsWith('./') || filePath.startsWith('../')) {
    return import(new URL(filePath, APP_ROOT).href)
  }
  return import(filePath)
}

new Ignitor(APP_ROOT, { importer: IMPORTER })
  .tap((app) => {
    app.booting(async () => {
      const { default: env } = await import('#start/env')
      const { applyGarbageCollectorSettings } = await import('#core/garbage_collector')
      applyGarbageCollectorSettings({ parallelScavenge: env.get('V8_PARALLEL_SCAVENGE') ?? false })
    })
    // SIGTERM (systemd, a load balancer's orchestration) and Ctrl+C drain alike; a second Ctrl+C
    // stops at once.
    const stop = (signal: NodeJS.Signals) => {
      if (lifecycle.signal) {
        if (signal === 'SIGINT') process.exit(130)
        return
      }
      lifecycle.signal = signal
      // Once every provider has shut down (calls drained, pools and Redis closed) the process
      // ends even if something still holds the event loop (a query waiting on a closed pool, a
      // connection a library left open): two seconds for the last log lines to go out.
      void app.terminate().finally(() => setTimeout(() => process.exit(), 2000).unref())
    }
    app.listen('SIGTERM', () => stop('SIGTERM'))
    app.listen('SIGINT', () => stop('SIGINT'))
  })
  .httpServer()
  .start()
  .catch(async (error) => {
    process.exitCode = 1
    await prettyPrintError(error)
    // A failed boot ends the process even when providers that started before the failure hold
    // connections open (Redis, the database pool): nothing runs yet that would need draining.
    process.exit(1)
  })
