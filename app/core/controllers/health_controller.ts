import readiness from '#core/services/readiness'
import type { HttpContext } from '@adonisjs/core/http'
import db from '@adonisjs/lucid/services/db'
import app from '@adonisjs/core/services/app'
import { redisEnabled } from '#config/redis'

export default class HealthController {
  /** The process is alive and serving HTTP. */
  async alive({ response }: HttpContext) {
    return response.ok({ status: 'ok' })
  }

  /** Ready for traffic: the database answers and, when configured, Redis too. */
  async ready({ response }: HttpContext) {
    const checks: Record<string, 'ok' | 'failed' | 'not_configured'> = {}
    try {
      await db.rawQuery('select 1')
      checks.database = 'ok'
    } catch {
      checks.database = 'failed'
    }
    if (redisEnabled) {
      try {
        const redis = await app.container.make('redis')
        await redis.connection('main').ping()
        checks.redis = 'ok'
      } catch {
        checks.redis = 'failed'
      }
    } else {
      checks.redis = 'not_configured'
    }
    const ready = !Object.values(checks).includes('failed') && readiness.allReady
    return response
      .status(ready ? 200 : 503)
      .json({ status: ready ? 'ready' : 'not_ready', checks, parts: readiness.parts })
  }
}
