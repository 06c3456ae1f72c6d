import type { AlertFacts, AlertSeverity } from '#core/alerts/types'

/**
 * Operations monitoring: modules register checks (what to measure), config/alert_rules.ts says
 * when a reading is bad (rules as data), and the monitoring job reads the checks on schedule and
 * raises or clears alerts through the one alert channel. Core knows no carrier or call: calls
 * registers those checks.
 */

/** One figure a check read, about one subject (a carrier) or about the whole node ('' subject). */
export interface CheckReading {
  subject?: string
  /** null: nothing to judge now (no calls in the window, backups not configured). */
  value: number | null
  /** The figures behind the value, shown with the alert and on the TOMs page. */
  facts?: AlertFacts
  /**
   * When what this reading reports was observed, where that is not now (a carrier's last OPTIONS
   * round, a retention job's last run). A reading observed two intervals ago counts as failing.
   */
  observedAt?: Date | null
  /** The interval of the underlying observation when it differs from the check's (a carrier's OPTIONS interval). */
  intervalSeconds?: number
}

export interface MonitorCheck {
  /** Stable name the rules refer to: 'carrier_health', 'disk_space'. */
  readonly name: string
  /** How often the monitoring job reads it. */
  readonly intervalSeconds: number
  /**
   * 'node': each process reads its own (event-loop lag, disk), the subject is its NODE_ID and
   * other nodes' readings are left alone; a node that stops goes stale and fails.
   */
  readonly scope?: 'node'
  read(now: Date): Promise<CheckReading[]>
}

/**
 * An alert rule (config/alert_rules.ts). A reading fails when its value is above `above` or below
 * `below`, when the check threw, or when it was not observed for two intervals. A failing subject
 * raises after `forSeconds` of failing; an open alert clears after `clearAfterSeconds` of passing,
 * so that it does not flap.
 */
export interface AlertRule {
  /** Names the alert kind `ops_<name>` (alerts.kinds in resources/lang/*\/alerts.json). */
  name: string
  check: string
  severity: AlertSeverity
  above?: number
  below?: number
  /** The unit of the value and thresholds, shown with the figures: 'percent', 'ms', 'days'. */
  unit: string
  forSeconds: number
  clearAfterSeconds: number
}
