import type { ApplicationService } from '@adonisjs/core/types'
import type { ConcurrentCallLeases } from '#fraud/services/call_leases'
import type RedisCallLeases from '#fraud/services/redis_call_leases'
import type FraudPolicies from '#fraud/services/fraud_policies'
import type FraudLimiter from '#fraud/services/fraud_limiter'
import type FraudDetector from '#fraud/services/fraud_detector'
import type SpendCounters from '#fraud/services/spend_counters'
import type SpendWatch from '#fraud/services/spend_watch'
import type DestinationPrices from '#fraud/services/destination_prices'
import type FraudResponse from '#fraud/services/fraud_response'
import type { FraudAlertChannel } from '#fraud/services/fraud_alert_channel'
import { CallGateRegistry } from '#calls/gates/call_gate'

/**
 * Fills the call gate seam of calls with the fraud decision (replacing the permissive gate under
 * the same name) and rebuilds the concurrent-call counters from the running calls' leases.
 */
export default class FraudProvider {
  #rebuild: NodeJS.Timeout | undefined
  #stopWatch: (() => void) | undefined

  constructor(protected app: ApplicationService) {}

  register() {
    this.app.container.singleton('fraud.policies', async () => {
      const { default: FraudPoliciesClass } = await import('#fraud/services/fraud_policies')
      const { default: fraudConfig } = await import('#config/fraud')
      return new FraudPoliciesClass(fraudConfig)
    })
    this.app.container.singleton('fraud.limiter', async (resolver) => {
      const { default: FraudLimiterClass } = await import('#fraud/services/fraud_limiter')
      const { default: fraudConfig } = await import('#config/fraud')
      const counters = await resolver.make('counters')
      const leases = counters.driver === 'redis' ? await resolver.make('fraud.leases') : null
      return new FraudLimiterClass(counters, {
        leaseSeconds: fraudConfig.leaseSeconds,
        leaseSets: leases?.kind === 'redis' ? (leases as RedisCallLeases) : undefined,
      })
    })
    // With Redis the leases live there alone (RedisCallLeases); else counters and the lease table.
    this.app.container.singleton(
      'fraud.leases',
      async (resolver): Promise<ConcurrentCallLeases> => {
        const { default: fraudConfig } = await import('#config/fraud')
        if ((await resolver.make('counters')).driver === 'redis') {
          const { default: RedisCallLeasesClass } =
            await import('#fraud/services/redis_call_leases')
          const redis = await resolver.make('redis')
          return new RedisCallLeasesClass(redis.connection('main').ioConnection, {
            leaseSeconds: fraudConfig.leaseSeconds,
          })
        }
        const { default: CallLeasesClass } = await import('#fraud/services/call_leases')
        const logger = await resolver.make('logger')
        return new CallLeasesClass(await resolver.make('fraud.limiter'), (error) =>
          logger.error({ err: error }, 'could not store a concurrent-call lease')
        )
      }
    )
    this.app.container.singleton('fraud.spend', async (resolver) => {
      const { default: SpendCountersClass } = await import('#fraud/services/spend_counters')
      return new SpendCountersClass(await resolver.make('counters'))
    })
    this.app.container.singleton('fraud.spend_watch', async (resolver) => {
      const { default: SpendWatchClass } = await import('#fraud/services/spend_watch')
      const { default: fraudConfig } = await import('#config/fraud')
      const { default: Company } = await import('#accounts/models/company')
      const { default: B2bua } = await import('#calls/b2bua/b2bua')
      const logger = await resolver.make('logger')
      return new SpendWatchClass(
        await resolver.make('fraud.spend'),
        await resolver.make('fraud.policies'),
        (companyId) => Company.find(companyId),
        () => B2bua.started,
        fraudConfig.spendCheckSeconds,
        Date.now,
        (error) => logger.error({ err: error }, 'spend caps not checked')
      )
    })
    this.app.container.singleton('fraud.prices', async () => {
      const { default: DestinationPricesClass } = await import('#fraud/services/destination_prices')
      const { default: priceLookup } = await import('#core/price_lookup')
      const { default: fraudConfig } = await import('#config/fraud')
      return new DestinationPricesClass(priceLookup, fraudConfig.policyCacheSeconds)
    })
    this.app.container.singleton('fraud.alerts', async (resolver) => {
      const { coreFraudAlerts } = await import('#fraud/services/fraud_alert_channel')
      return coreFraudAlerts(await resolver.make('alerts'))
    })
    this.app.container.singleton('fraud.response', async (resolver) => {
      const { default: FraudResponseClass } = await import('#fraud/services/fraud_response')
      const { default: fraudConfig } = await import('#config/fraud')
      return new FraudResponseClass(
        fraudConfig,
        await resolver.make('fraud.alerts'),
        await resolver.make('fraud.policies')
      )
    })
    this.app.container.singleton('fraud.detector', async (resolver) => {
      const { default: FraudDetectorClass } = await import('#fraud/services/fraud_detector')
      const { default: fraudConfig } = await import('#config/fraud')
      const { default: processingRestrictions } = await import('#core/processing_restrictions')
      return new FraudDetectorClass(
        fraudConfig,
        await resolver.make('fraud.policies'),
        await resolver.make('fraud.response'),
        processingRestrictions
      )
    })
  }

  async boot() {
    // Open review cases on the admin dashboard: suspended companies waiting for an analyst.
    const { default: DashboardPanels } = await import('#core/services/dashboard_panels')
    const panels = await this.app.container.make(DashboardPanels)
    panels.register({
      key: 'fraud_reviews',
      component: 'components/fraud_reviews_panel',
      data: async () => {
        const { default: FraudReviewCase } = await import('#fraud/models/fraud_review_case')
        const open = await FraudReviewCase.query()
          .where('status', 'open')
          .orderBy('created_at', 'asc')
          .select('created_at')
        return { open: open.length, oldest: open[0]?.createdAt ?? null }
      },
    })

    // The customer overview: what one's calls cost so far this month and today, and the company's
    // month against its monthly limit for those who see billing (the spend page has the details).
    panels.registerForCustomers({
      key: 'spend',
      component: 'components/spend_panel',
      data: async (viewer) => {
        const { default: Company } = await import('#accounts/models/company')
        const { default: fraudConfig } = await import('#config/fraud')
        const company = await Company.findOrFail(viewer.companyId)
        const timeZone = company.timeZone ?? fraudConfig.timeZone
        const spend = await this.app.container.make('fraud.spend')
        const seesCompany = await viewer.can('billing.view')
        const policies = await this.app.container.make('fraud.policies')
        return {
          own: await spend.spent(`user:${viewer.userId}`, timeZone),
          company: seesCompany ? await spend.spent(`company:${company.id}`, timeZone) : null,
          monthlyCapMicro: seesCompany
            ? (await policies.company(company)).spend.monthlyCapMicro
            : null,
        }
      },
    })

    this.app.container.resolving(CallGateRegistry, async (gates) => {
      const { default: FraudGate } = await import('#fraud/gates/fraud_gate')
      const { default: fraudConfig } = await import('#config/fraud')
      gates.register(
        new FraudGate(
          fraudConfig,
          await this.app.container.make('fraud.policies'),
          await this.app.container.make('fraud.limiter'),
          await this.app.container.make('fraud.leases'),
          Date.now,
          {
            prices: await this.app.container.make('fraud.prices'),
            spend: await this.app.container.make('fraud.spend'),
          }
        )
      )
    })
  }

  async ready() {
    const { default: fraudConfig } = await import('#config/fraud')
    if (this.app.getEnvironment() === 'web' || this.app.getEnvironment() === 'test') {
      const { registerFraudJobs } = await import('#fraud/jobs/schedule')
      await registerFraudJobs(await this.app.container.make('jobs.queue'), fraudConfig)
    }
    if (this.app.getEnvironment() !== 'web' || this.app.getMode() === 'warmup') return
    const leases = await this.app.container.make('fraud.leases')
    const logger = await this.app.container.make('logger')
    const run = () =>
      leases
        .rebuild(fraudConfig.leaseSeconds)
        .catch((error) =>
          logger.error({ err: error }, 'could not rebuild the concurrent-call counters')
        )
    await run()
    await this.#rebuildSpend(fraudConfig.timeZone).catch((error) =>
      logger.error({ err: error }, 'could not rebuild the spend counters')
    )
    this.#rebuild = setInterval(run, fraudConfig.rebuildIntervalSeconds * 1000)
    this.#rebuild.unref()
    // Running calls against the spend caps, on the system clock (tests drive it on a FakeClock)
    const { SystemClock } = await import('#sip')
    this.#stopWatch = (await this.app.container.make('fraud.spend_watch')).start(new SystemClock())
  }

  /** This month's spend from the rated CDRs, per company in its own time zone. */
  async #rebuildSpend(fallbackZone: string) {
    const { default: db } = await import('@adonisjs/lucid/services/db')
    const zones = new Map<number, string>()
    for (const row of await db.from('companies').select('id', 'time_zone'))
      zones.set(Number(row.id), row.time_zone ?? fallbackZone)
    const spend = await this.app.container.make('fraud.spend')
    await spend.rebuild((companyId) => zones.get(companyId) ?? fallbackZone)
  }

  async shutdown() {
    clearInterval(this.#rebuild)
    this.#stopWatch?.()
  }
}

declare module '@adonisjs/core/types' {
  export interface ContainerBindings {
    'fraud.policies': FraudPolicies
    'fraud.limiter': FraudLimiter
    'fraud.leases': ConcurrentCallLeases
    'fraud.alerts': FraudAlertChannel
    'fraud.response': FraudResponse
    'fraud.detector': FraudDetector
    'fraud.spend': SpendCounters
    'fraud.spend_watch': SpendWatch
    'fraud.prices': DestinationPrices
  }
}
