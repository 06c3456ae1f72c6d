import app from '@adonisjs/core/services/app'
import type AlertChannel from '#core/alerts/alert_channel'

let alerts: AlertChannel

await app.booted(async () => {
  alerts = await app.container.make('alerts')
})

/** The one alert channel: `alerts.raise(key, severity, facts, options)`, `alerts.clear(key)`. */
export { alerts as default }
