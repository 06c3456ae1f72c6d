import env from '#start/env'
import { appUrl } from '#config/app'
import type { AlertSettings } from '#core/alerts/settings'

const webhookUrl = env.get('ALERT_WEBHOOK_URL') || null
const webhookSecret = env.get('ALERT_WEBHOOK_SECRET') || null
if (webhookUrl && (!webhookSecret || webhookSecret.length < 32)) {
  throw new Error(
    'ALERT_WEBHOOK_URL is set: ALERT_WEBHOOK_SECRET must be set too, at least 32 characters (the receiver checks the signature with it)'
  )
}

/** The one alert channel (app/core/alerts): where alerts go besides the admin page. */
const alertsConfig: AlertSettings = {
  webhookUrl,
  webhookSecret,
  mailTo: (env.get('ALERT_MAIL_TO') ?? '')
    .split(',')
    .map((address) => address.trim())
    .filter(Boolean),
  // Alerts carry evidence about people (numbers called, login addresses): kept like call metadata
  retentionMonths: 6,
  appUrl,
}

export default alertsConfig
