import type { ApplicationService } from '@adonisjs/core/types'
import type { MediaEngineStats, MediaWorkerFigures } from '#media'
import type { QueryEventSource } from '#core/metrics/database_metrics'

/**
 * Wires the Prometheus metrics (/metrics): process figures labelled by NODE_ID, the database
 * statements' times, and the live sources the modules' gauges read when scraped (the B2BUA's running
 * calls, the carrier health service). Counters of events are listened to in start/events.ts.
 */
export default class MetricsProvider {
  constructor(protected app: ApplicationService) {}

  async boot() {
    const { configureMetrics } = await import('#core/services/metrics')
    const { default: env } = await import('#start/env')
    configureMetrics({ nodeId: env.get('NODE_ID') || undefined })

    // Every database connection's statements are timed: the connections open now and later ones.
    const { timeQueries } = await import('#core/metrics/database_metrics')
    const db = await this.app.container.make('lucid.db')
    const emitter = await this.app.container.make('emitter')
    const time = (connection: {
      name: string
      client?: QueryEventSource
      readClient?: QueryEventSource
    }) => {
      if (connection.client) timeQueries(connection.client, connection.name)
      if (connection.readClient) timeQueries(connection.readClient, connection.name)
    }
    for (const { connection } of db.manager.connections.values()) if (connection) time(connection)
    emitter.on('db:connection:connect', time)

    // The backup age gauges (read from BACKUP_DIR when scraped).
    await import('#core/backups/backup_status')

    const { watchLiveCalls, watchCarrierHealth } = await import('#calls/metrics/call_metrics')
    const { default: CarrierHealthService } = await import('#calls/services/carrier_health_service')
    this.app.container.resolving('calls.b2bua', (b2bua) => watchLiveCalls(() => b2bua.calls))
    this.app.container.resolving(CarrierHealthService, (service) =>
      watchCarrierHealth(() => service.all())
    )

    // The SIP stack's and the media engine's own counters
    const { watchSipTraffic, watchMedia, watchMediaWorkers } =
      await import('#calls/metrics/signalling_metrics')
    this.app.container.resolving('sip.transport', (layer) => watchSipTraffic(() => layer.traffic))
    this.app.container.resolving('media.engine', (engine) => {
      // The werift engine counts; another MediaEngine (a test double) may not
      const counters = (engine as { counters?: MediaEngineStats }).counters
      if (counters) watchMedia(() => counters)
      const pool = engine as { workerFigures?: () => MediaWorkerFigures }
      if (pool.workerFigures) watchMediaWorkers(() => pool.workerFigures!())
    })

    // The call figures on the admin dashboard (Chart.js, refreshed from admin.calls.figures).
    const { default: DashboardPanels } = await import('#core/services/dashboard_panels')
    const panels = await this.app.container.make(DashboardPanels)
    panels.register({
      key: 'call_figures',
      component: 'components/call_figures',
      data: async () => {
        const { default: CallFiguresService, FAILURE_CAUSES } =
          await import('#calls/services/call_figures_service')
        const figures = await (await this.app.container.make(CallFiguresService)).figures()
        return { figures, causes: [...FAILURE_CAUSES] }
      },
    })
  }
}
