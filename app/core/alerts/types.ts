/**
 * The one alert channel's vocabulary. Fraud and operations raise alerts through it; it knows
 * nothing of either (ARCHITECTURE.md: core imports no domain module).
 */
export const ALERT_SEVERITIES = ['warning', 'critical'] as const
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number]

/** What an alert says about itself: the figures that triggered it, in plain values. */
export type AlertFacts = Record<string, string | number | boolean | null>

export interface RaiseOptions {
  /** Names the words shown for the alert (`alerts.kinds.<kind>`); defaults to the key up to its first ':'. */
  kind?: string
  /** The customer company the alert is about; its admins see it only when `notifyCompany` is set. */
  companyId?: number | null
  /** Mail the company's owners and admins too (e.g. fraud on their account). */
  notifyCompany?: boolean
}

export interface AlertRecipient {
  email: string
  locale: string
}

/**
 * Who hears of alerts. Core knows no users: accounts fills this in (providers/app_provider.ts).
 */
export interface AlertDirectory {
  /** Staff who watch alerts (permission `alerts.view`). */
  staff(): Promise<AlertRecipient[]>
  /** A company's owners and admins. */
  companyAdmins(companyId: number): Promise<AlertRecipient[]>
  /** Display names of companies, for the admin pages. */
  companyNames(companyIds: number[]): Promise<Map<number, string>>
}

export type AlertEventKind = 'raised' | 'escalated' | 'cleared'
