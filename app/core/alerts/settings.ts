/** How alerts leave the product (config/alerts.ts fills it from the environment). */
export interface AlertSettings {
  /** A signed webhook receives every raise, escalation and clearing; null: none. */
  webhookUrl: string | null
  webhookSecret: string | null
  /** Extra mailboxes for staff alerts (an on-call address), besides staff with `alerts.view`. */
  mailTo: string[]
  /** Cleared alerts and their history are deleted this many months after clearing. */
  retentionMonths: number
  /** Where links in alert mails point. */
  appUrl: string
}

/** Minutes to wait before the n-th webhook retry; after the last, delivery is given up ('failed'). */
export const WEBHOOK_RETRY_MINUTES = [1, 5, 15, 60, 240] as const
