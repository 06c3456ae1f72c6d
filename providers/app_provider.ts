import type { ApplicationService } from '@adonisjs/core/types'
import type { JobQueue } from '#core/queue/types'
import type { CounterStore } from '#core/counters/types'
import type AlertChannel from '#core/alerts/alert_channel'
import type AlertDeliveryJob from '#core/alerts/alert_delivery_job'
import type { AlertDirectory } from '#core/alerts/types'
import SubProcessorRegistry from '#core/services/sub_processor_registry'
import DashboardPanels from '#core/services/dashboard_panels'

/**
 * Chooses the backends for jobs and counters once, at boot: BullMQ and Redis when REDIS_HOST is
 * set, in-process and in-memory otherwise. Closes them on shutdown.
 */
export default class AppProvider {
  constructor(protected app: ApplicationService) {}

  register() {
    this.app.container.singleton('jobs.queue', async (resolver) => {
      const { default: MeteredJobQueue } = await import('#core/metrics/job_metrics')
      const { default: DatabaseJobRunLog } = await import('#core/monitoring/job_run_log')
      const { default: env } = await import('#start/env')
      return new MeteredJobQueue(await this.#queue(resolver), {
        runs: new DatabaseJobRunLog(),
        // Overdue scheduled jobs run once at start; not in tests, whose data and timing are theirs
        catchUp: env.get('JOBS_CATCH_UP') ?? !this.app.inTest,
        onCatchUpError: async (error) => {
          const logger = await resolver.make('logger')
          logger.error({ err: error }, 'overdue scheduled jobs could not be dispatched at start')
        },
      })
    })

    // The one alert channel (app/core/alerts); accounts says who hears of alerts
    this.app.container.singleton('alerts.directory', async () => {
      const { default: AccountsAlertDirectory } = await import('#accounts/services/alert_directory')
      return new AccountsAlertDirectory()
    })
    this.app.container.singleton('alerts.delivery', async (resolver) => {
      const { default: AlertDeliveryJob } = await import('#core/alerts/alert_delivery_job')
      const { default: alertsConfig } = await import('#config/alerts')
      return new AlertDeliveryJob(
        await resolver.make('alerts.directory'),
        alertsConfig,
        await resolver.make('logger')
      )
    })
    this.app.container.singleton('alerts', async (resolver) => {
      const { default: AlertChannel } = await import('#core/alerts/alert_channel')
      const { default: alertsConfig } = await import('#config/alerts')
      return new AlertChannel(
        await resolver.make('jobs.queue'),
        await resolver.make('alerts.delivery'),
        alertsConfig
      )
    })

    // Modules register their sub-processor sources at boot; privacy publishes what it holds.
    this.app.container.singleton(SubProcessorRegistry, () => new SubProcessorRegistry())
    // Modules put their panels on the admin dashboard (accounts renders it, importing none of them).
    this.app.container.singleton(DashboardPanels, () => new DashboardPanels())

    this.app.container.singleton('counters', async (resolver) => {
      const { redisEnabled } = await import('#config/redis')
      if (redisEnabled) {
        const { default: RedisCounterStore } = await import('#core/counters/redis_counter_store')
        const redis = await resolver.make('redis')
        return new RedisCounterStore(redis.connection('main').ioConnection)
      }
      const { default: MemoryCounterStore } = await import('#core/counters/memory_counter_store')
      return new MemoryCounterStore()
    })
  }

  /** BullMQ on Redis when REDIS_HOST is set, else the in-process driver (measured by the caller). */
  async #queue(resolver: { make(binding: 'logger'): Promise<any> }): Promise<JobQueue> {
    const { redisEnabled } = await import('#config/redis')
    const logger = await resolver.make('logger')
    if (redisEnabled) {
      const { default: BullMqQueue } = await import('#core/queue/bullmq_queue')
      const redisConfig = this.app.config.get<any>('redis.connections.main')
      return new BullMqQueue(
        {
          host: redisConfig.host,
          port: redisConfig.port,
          password: redisConfig.password,
          maxRetriesPerRequest: null,
        },
        logger,
        'fluffycall',
        `${redisConfig.keyPrefix || ''}fluffycall`
      )
    }
    const { default: InProcessQueue } = await import('#core/queue/in_process_queue')
    return new InProcessQueue(logger)
  }

  /** Edge helpers that turn stored values into words and formatted numbers (app/core/formatting.ts). */
  async boot() {
    const { default: edge } = await import('edge.js')
    const { countryName, phoneNumber, formatCount, formatDate, formatDateTime } =
      await import('#core/formatting')
    edge.global('countryName', countryName)
    edge.global('phoneNumber', phoneNumber)
    edge.global('formatCount', formatCount)
    edge.global('formatDate', formatDate)
    edge.global('formatDateTime', formatDateTime)
    const { formatCents, formatEuros } = await import('#billing/amounts')
    edge.global('formatCents', formatCents)
    edge.global('formatEuros', formatEuros)
    // billing answers the price lookup fraud's maximum price per minute and spend caps ask
    const { default: priceLookup } = await import('#core/price_lookup')
    const { default: DestinationPriceLookup } =
      await import('#billing/services/destination_price_lookup')
    priceLookup.use(new DestinationPriceLookup())
    await this.#watchLookupTables()
  }

  /**
   * Every database connection's writes to the tables calls keep lookups of drop them
   * (#core/caching/lookup_changes): the connections open now and those opened later.
   */
  async #watchLookupTables() {
    const { watchLookupTables } = await import('#core/caching/lookup_changes')
    const db = await this.app.container.make('lucid.db')
    const emitter = await this.app.container.make('emitter')
    for (const { connection } of db.manager.connections.values())
      if (connection?.client) watchLookupTables(connection.client)
    emitter.on('db:connection:connect', (connection) => {
      if (connection.client) watchLookupTables(connection.client)
    })
  }

  async ready() {
    const { registerAccountJobs } = await import('#accounts/jobs/schedule')
    const queue = await this.app.container.make('jobs.queue')
    await registerAccountJobs(queue)
    const { registerCallJobs } = await import('#calls/jobs/schedule')
    await registerCallJobs(queue)
    const { registerPrivacyJobs } = await import('#privacy/jobs/schedule')
    await registerPrivacyJobs(queue)
    const { registerCoreJobs } = await import('#core/jobs/schedule')
    await registerCoreJobs(queue, this.app.config.get('backup'))
    await this.#registerAlertJobs(queue)
    const { registerBillingJobs } = await import('#billing/jobs/schedule')
    await registerBillingJobs(queue)
    if (this.app.getEnvironment() === 'web' || this.app.getEnvironment() === 'test') {
      await queue.start()
    }
  }

  /** Alert delivery runs on every node's worker; redelivery every minute, retention daily. */
  async #registerAlertJobs(queue: JobQueue) {
    const { default: AlertRedeliveryJob } = await import('#core/alerts/alert_redelivery_job')
    const { default: AlertRetentionJob } = await import('#core/alerts/alert_retention_job')
    const { default: alertsConfig } = await import('#config/alerts')
    const delivery = await this.app.container.make('alerts.delivery')
    queue.register(delivery)
    await queue.schedule(new AlertRedeliveryJob(delivery), {}, { everyMs: 60 * 1000 })
    await queue.schedule(
      new AlertRetentionJob(alertsConfig.retentionMonths),
      {},
      { everyMs: 24 * 60 * 60 * 1000 }
    )
  }

  async shutdown() {
    if (this.app.container.hasBinding('jobs.queue')) {
      const queue = await this.app.container.make('jobs.queue')
      await queue.close()
    }
  }
}

declare module '@adonisjs/core/types' {
  export interface ContainerBindings {
    'jobs.queue': JobQueue
    'counters': CounterStore
    'alerts': AlertChannel
    'alerts.directory': AlertDirectory
    'alerts.delivery': AlertDeliveryJob
  }
}
