import type ChannelClass from '#core/alerts/alert_channel'

/** The part of the alert channel the monitoring uses (a test may hand in its own channel). */
export type AlertChannel = Pick<ChannelClass, 'raise' | 'clear'>
