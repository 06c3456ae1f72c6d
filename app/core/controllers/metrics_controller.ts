import type { HttpContext } from '@adonisjs/core/http'
import app from '@adonisjs/core/services/app'
import env from '#start/env'
import metrics from '#core/services/metrics'
import { metricsAccess } from '#core/metrics/access'

export default class MetricsController {
  /** Prometheus text exposition of this process's metrics (see #core/metrics/access for who may read it). */
  async show({ request, response }: HttpContext) {
    const access = metricsAccess({
      token: env.get('METRICS_TOKEN'),
      production: app.inProduction,
      authorization: request.header('authorization'),
      remoteAddress: request.request.socket.remoteAddress,
    })
    if (access === 'disabled') return response.notFound('Not found')
    if (access === 'unauthorized') {
      return response
        .header('WWW-Authenticate', 'Bearer realm="metrics"')
        .unauthorized('Unauthorized')
    }
    response.header('Content-Type', metrics.contentType)
    response.header('Cache-Control', 'no-store')
    return response.send(await metrics.metrics())
  }
}
