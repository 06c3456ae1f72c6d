import { DateTime } from 'luxon'
import type Monitoring from '#core/monitoring/monitoring'
import { TOM_CHECK_KEYS } from '#core/monitoring/tom_checks'
import type { AlertFacts } from '#core/alerts/types'

export type TomCheckStatus = 'passed' | 'failed' | 'not_applicable' | 'not_run'

export interface TomCheckResult {
  key: string
  status: TomCheckStatus
  /** When the check last ran; null before its first run. */
  checkedAt: string | null
  facts: AlertFacts
}

/**
 * The TOM checks' last results for the public TOMs page and its JSON: failed, or not run for two
 * intervals (or never), is red; nothing to judge on this installation is "not applicable".
 */
export async function tomResults(
  monitoring: Monitoring,
  now: DateTime = DateTime.utc()
): Promise<TomCheckResult[]> {
  const verdicts = (await monitoring.verdicts(now)).filter(
    (verdict) => verdict.rule.check === 'toms'
  )
  return TOM_CHECK_KEYS.map((key) => {
    const verdict = verdicts.find((entry) => entry.subject === key)
    const reading = verdict?.reading ?? null
    let status: TomCheckStatus
    if (!verdict || !reading || verdict.stale) status = 'not_run'
    else if (reading.value === null) status = 'not_applicable'
    else status = verdict.failing ? 'failed' : 'passed'
    // The measure is the row itself
    const facts = { ...(reading?.facts ?? {}) }
    delete facts.measure
    return {
      key,
      status,
      checkedAt: reading ? reading.observedAt.toUTC().toISO({ suppressMilliseconds: true }) : null,
      facts,
    }
  })
}
