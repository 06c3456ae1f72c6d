import type { ApplicationService } from '@adonisjs/core/types'
import lifecycle from '#core/services/lifecycle'

/**
 * One line when the server is ready (what runs where) and one when it has stopped (signal, calls
 * ended, uptime). Listed right after the framework's own providers: providers shut down in
 * reverse order, so the stop line comes after every other provider has closed.
 */
export default class LifecycleProvider {
  constructor(protected app: ApplicationService) {}

  async ready() {
    if (this.app.getMode() === 'warmup') return
    const { default: env } = await import('#start/env')
    const { redisEnabled } = await import('#config/redis')
    const logger = await this.app.container.make('logger')
    logger.info(
      {
        node: env.get('NODE_ID') ?? null,
        environment: env.get('NODE_ENV'),
        node_version: process.version,
        http: `${env.get('HOST')}:${env.get('PORT')}`,
        database: env.get('DB_CONNECTION', 'sqlite'),
        redis: redisEnabled,
        sip_transports: env.get('SIP_TRANSPORTS') ?? 'udp,tcp,tls,ws',
      },
      'FluffyCall started'
    )
  }

  async shutdown() {
    const logger = await this.app.container.make('logger')
    logger.info(
      {
        signal: lifecycle.signal,
        calls_ended: lifecycle.callsEnded,
        calls_ended_at_deadline: lifecycle.callsEndedAtDeadline,
        uptime_seconds: Math.round((Date.now() - lifecycle.startedAt) / 1000),
      },
      `FluffyCall stopped: ${lifecycle.callsEnded} ${lifecycle.callsEnded === 1 ? 'call' : 'calls'} ended`
    )
  }
}
