import type { ApplicationService } from '@adonisjs/core/types'
import type Monitoring from '#core/monitoring/monitoring'

/**
 * Operations monitoring (app/core/monitoring): the checks of core and of the calls module, judged
 * by config/alert_rules.ts and raised through the alert channel. Every web process runs it on a
 * timer of its own, not on the job queue, so that a stuck queue is still noticed; what they share
 * (readings, rule states, open alerts) is in the database, deduplicated per key.
 */
export default class MonitoringProvider {
  #timer: NodeJS.Timeout | undefined
  #closers: Array<() => void> = []

  constructor(protected app: ApplicationService) {}

  register() {
    this.app.container.singleton('monitoring', async (resolver) => {
      const { default: MonitoringService } = await import('#core/monitoring/monitoring')
      const { default: alertRules } = await import('#config/alert_rules')
      const { default: env } = await import('#start/env')
      const { hostname } = await import('node:os')
      const monitoring = new MonitoringService(
        alertRules,
        await resolver.make('alerts'),
        undefined,
        await resolver.make('logger'),
        env.get('NODE_ID') || hostname()
      )
      await this.#registerChecks(monitoring)
      return monitoring
    })
  }

  async #registerChecks(monitoring: Monitoring) {
    const { default: EventLoopCheck } = await import('#core/monitoring/checks/event_loop_check')
    const { default: DiskSpaceCheck } = await import('#core/monitoring/checks/disk_space_check')
    const { default: TlsCertificateCheck } =
      await import('#core/monitoring/checks/tls_certificate_check')
    const { default: BackupCheck } = await import('#core/monitoring/checks/backup_check')
    const { RetentionRunsCheck, JobQueueCheck } =
      await import('#core/monitoring/checks/job_runs_check')
    const { backupStatus } = await import('#core/backups/backup_status')
    const eventLoop = new EventLoopCheck()
    this.#closers.push(() => eventLoop.close())
    monitoring.register(eventLoop)
    monitoring.register(
      new DiskSpaceCheck(() => {
        const backupDir = this.app.config.get<string | null>('backup.dir')
        return [this.app.tmpPath(), this.app.makePath(), ...(backupDir ? [backupDir] : [])]
      })
    )
    monitoring.register(
      new TlsCertificateCheck(() => {
        const tls = this.app.config.get<any>('sip.tls')
        return tls?.enabled && tls.certPath ? [{ role: 'sip', path: tls.certPath }] : []
      })
    )
    monitoring.register(new BackupCheck(() => backupStatus()))
    monitoring.register(new RetentionRunsCheck())
    monitoring.register(new JobQueueCheck(() => this.app.container.make('jobs.queue')))
    const { redisEnabled } = await import('#config/redis')
    const { default: RedisCheck } = await import('#core/monitoring/checks/redis_check')
    monitoring.register(
      new RedisCheck(
        redisEnabled
          ? async () => (await this.app.container.make('redis')).connection('main').ping()
          : null
      )
    )

    const { CarrierHealthCheck, CallOutcomesCheck, CallSetupTimeCheck } =
      await import('#calls/monitoring/call_checks')
    const { default: CarrierHealthService } = await import('#calls/services/carrier_health_service')
    monitoring.register(new CarrierHealthCheck(() => this.app.container.make(CarrierHealthService)))
    monitoring.register(new CallOutcomesCheck())
    monitoring.register(new CallSetupTimeCheck())

    // The live proofs of the TOMs page, one probe per measure, from the module that owns it
    const { default: TomChecks } = await import('#core/monitoring/tom_checks')
    const { tlsCertificateProbe, backupAgeProbe } = await import('#core/monitoring/core_tom_probes')
    const { cdrRetentionProbe, encryptedLegsProbe, subProcessorsProbe } =
      await import('#calls/monitoring/tom_probes')
    const { auditAppendOnlyProbe, loginLockoutProbe } =
      await import('#accounts/monitoring/tom_probes')
    const { default: CarrierDirectory } = await import('#calls/services/carrier_directory')
    const { default: SubProcessorRegistry } = await import('#core/services/sub_processor_registry')
    const toms = new TomChecks()
    toms.register(
      tlsCertificateProbe(() => {
        const tls = this.app.config.get<any>('sip.tls')
        return tls?.enabled && tls.certPath ? tls.certPath : null
      })
    )
    toms.register(encryptedLegsProbe())
    toms.register(cdrRetentionProbe())
    toms.register(auditAppendOnlyProbe())
    toms.register(loginLockoutProbe())
    toms.register(
      subProcessorsProbe(
        () => this.app.container.make(CarrierDirectory),
        () => this.app.container.make(SubProcessorRegistry)
      )
    )
    toms.register(backupAgeProbe(() => backupStatus()))
    monitoring.register(toms)
  }

  /** The operations panel on the admin dashboard: open alerts, rules failing, TOM checks, media quality. */
  async boot() {
    const { default: DashboardPanels } = await import('#core/services/dashboard_panels')
    const panels = await this.app.container.make(DashboardPanels)
    panels.register({
      key: 'operations',
      component: 'components/operations_panel',
      data: async () => {
        const { default: Alert } = await import('#core/alerts/alert')
        const { tomResults } = await import('#core/monitoring/tom_results')
        const monitoring = await this.app.container.make('monitoring')
        const open = await Alert.query().where('status', 'open').select('severity')
        const verdicts = await monitoring.verdicts()
        const toms = await tomResults(monitoring)
        const engine = (await this.app.container.make('media.engine')) as {
          counters?: import('#media').MediaEngineStats
        }
        const media = engine.counters?.figures() ?? null
        return {
          alerts: {
            open: open.length,
            critical: open.filter((alert) => alert.severity === 'critical').length,
          },
          rules: {
            total: monitoring.ruleList.length,
            failing: new Set(verdicts.filter((v) => v.failing).map((v) => v.rule.name)).size,
          },
          toms: {
            passed: toms.filter((check) => check.status === 'passed').length,
            red: toms.filter((check) => ['failed', 'not_run'].includes(check.status)).length,
          },
          media: media && {
            legs: media.legs.rtp + media.legs.webrtc,
            bridges: media.bridges,
            lossPercent:
              media.packetsExpected > 0
                ? Math.round((media.packetsLost / media.packetsExpected) * 1000) / 10
                : null,
            jitterMs: media.jitterMs.length ? Math.round(Math.max(...media.jitterMs)) : null,
          },
        }
      },
    })
  }

  /** The web server judges every MONITORING_INTERVAL_SECONDS (tests run it by hand). */
  async ready() {
    if (this.app.getEnvironment() !== 'web' || this.app.getMode() === 'warmup') return
    const { default: env } = await import('#start/env')
    const seconds = env.get('MONITORING_INTERVAL_SECONDS') ?? 60
    if (seconds <= 0) return
    const monitoring = await this.app.container.make('monitoring')
    const logger = await this.app.container.make('logger')
    let running = false
    this.#timer = setInterval(() => {
      if (running) return
      running = true
      monitoring
        .run()
        .catch((error) => logger.error({ err: error }, 'monitoring run failed'))
        .finally(() => (running = false))
    }, seconds * 1000)
    this.#timer.unref()
  }

  async shutdown() {
    if (this.#timer) clearInterval(this.#timer)
    for (const close of this.#closers) close()
  }
}

declare module '@adonisjs/core/types' {
  export interface ContainerBindings {
    monitoring: Monitoring
  }
}
