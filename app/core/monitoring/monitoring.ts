import { DateTime } from 'luxon'
import type { AlertChannel } from '#core/monitoring/alert_port'
import AlertRuleState from '#core/monitoring/alert_rule_state'
import MonitorReading from '#core/monitoring/monitor_reading'
import type { AlertRule, CheckReading, MonitorCheck } from '#core/monitoring/types'
import type { AlertFacts } from '#core/alerts/types'

interface Logger {
  warn(bindings: object, message: string): void
}

/** What a rule concluded about one subject, for the admin pages and the TOMs page. */
export interface RuleVerdict {
  rule: AlertRule
  subject: string
  failing: boolean
  /** Not observed for two intervals (or the check threw). */
  stale: boolean
  reading: MonitorReading
}

/**
 * The checks modules register at boot, and one run of the monitoring job: read every check that
 * is due, store its readings, judge each rule on them and raise or clear through the alert
 * channel. The clock is injected, so the hold times and "not observed for two intervals" are
 * proven without waiting.
 */
export default class Monitoring {
  readonly #checks = new Map<string, MonitorCheck>()

  constructor(
    private rules: AlertRule[],
    private alerts: AlertChannel,
    private clock: () => DateTime = () => DateTime.utc(),
    private logger?: Logger,
    readonly nodeId: string = 'local'
  ) {
    for (const rule of rules) {
      if (rule.above === undefined && rule.below === undefined)
        throw new Error(`alert rule '${rule.name}' has no threshold (above or below)`)
    }
  }

  register(check: MonitorCheck) {
    this.#checks.set(check.name, check)
  }

  get checks(): MonitorCheck[] {
    return [...this.#checks.values()]
  }

  get ruleList(): AlertRule[] {
    return [...this.rules]
  }

  /** Reads what is due (everything with `force`), then judges every rule. */
  async run(options: { force?: boolean } = {}) {
    const now = this.clock()
    for (const check of this.#checks.values()) {
      if (options.force || (await this.#due(check, now))) await this.read(check, now)
    }
    for (const rule of this.rules) await this.#evaluate(rule, now)
  }

  /** Reads one check now and stores its readings (subjects it no longer reports are removed). */
  async read(check: MonitorCheck, now: DateTime = this.clock()) {
    let readings: CheckReading[]
    const own = (query: any) =>
      check.scope === 'node' ? query.where('subject', this.nodeId) : query
    try {
      readings = (await check.read(now.toJSDate())).map((reading) =>
        check.scope === 'node' ? { ...reading, subject: this.nodeId } : reading
      )
    } catch (error) {
      const message = (error instanceof Error ? error.message : String(error)).slice(0, 200)
      this.logger?.warn({ check: check.name, error: message }, 'monitoring check failed')
      // Keeps the last figures and their time; the error makes them fail until the check answers
      const rows = await own(MonitorReading.query().where('check_name', check.name))
      if (!rows.length) {
        await MonitorReading.create({
          checkName: check.name,
          subject: check.scope === 'node' ? this.nodeId : '',
          value: null,
          facts: {},
          observedAt: now,
          readAt: now,
          intervalSeconds: check.intervalSeconds,
          error: message,
        })
      }
      for (const row of rows) {
        row.merge({ error: message, readAt: now })
        await row.save()
      }
      return
    }
    const subjects = readings.map((reading) => reading.subject ?? '')
    await own(MonitorReading.query().where('check_name', check.name))
      .if(subjects.length, (query: any) => query.whereNotIn('subject', subjects))
      .delete()
    for (const reading of readings) {
      const observed = reading.observedAt === undefined ? now.toJSDate() : reading.observedAt
      await MonitorReading.updateOrCreate(
        { checkName: check.name, subject: reading.subject ?? '' },
        {
          value: reading.value,
          facts: reading.facts ?? {},
          // Never observed (a carrier not checked yet): as old as the check's first look at it
          observedAt: observed ? DateTime.fromJSDate(observed).toUTC() : now,
          readAt: now,
          intervalSeconds: Math.max(check.intervalSeconds, reading.intervalSeconds ?? 0),
          error: null,
        }
      )
    }
  }

  /** Each rule's verdict per subject as of now (nothing is raised or stored). */
  async verdicts(now: DateTime = this.clock()): Promise<RuleVerdict[]> {
    const verdicts: RuleVerdict[] = []
    for (const rule of this.rules) {
      const readings = await MonitorReading.query().where('check_name', rule.check)
      for (const reading of readings) verdicts.push(this.#judge(rule, reading, now))
    }
    return verdicts
  }

  async #due(check: MonitorCheck, now: DateTime) {
    const latest = await MonitorReading.query()
      .where('check_name', check.name)
      .if(check.scope === 'node', (query) => query.where('subject', this.nodeId))
      .orderBy('read_at', 'desc')
      .first()
    if (!latest) return true
    // A second of slack: a job scheduled every interval finds its check due
    return now.diff(latest.readAt).as('seconds') >= check.intervalSeconds - 1
  }

  #judge(rule: AlertRule, reading: MonitorReading, now: DateTime): RuleVerdict {
    const age = now.diff(reading.observedAt).as('seconds')
    const stale = reading.error !== null || age > 2 * reading.intervalSeconds
    const value = reading.value
    const beyond =
      value !== null &&
      ((rule.above !== undefined && value > rule.above) ||
        (rule.below !== undefined && value < rule.below))
    return { rule, subject: reading.subject, failing: stale || beyond, stale, reading }
  }

  async #evaluate(rule: AlertRule, now: DateTime) {
    const readings = await MonitorReading.query().where('check_name', rule.check)
    const states = await AlertRuleState.query().where('rule', rule.name)
    const seen = new Set<string>()
    for (const reading of readings) {
      seen.add(reading.subject)
      const verdict = this.#judge(rule, reading, now)
      const state = states.find((known) => known.subject === reading.subject)
      await this.#apply(
        rule,
        verdict.subject,
        verdict.failing,
        this.#facts(verdict, now),
        state,
        now
      )
    }
    // A subject no check reports any more (a carrier removed from the config) no longer fails
    for (const state of states) {
      if (!seen.has(state.subject)) {
        await this.alerts.clear(alertKey(rule, state.subject))
        await state.delete()
      }
    }
  }

  async #apply(
    rule: AlertRule,
    subject: string,
    failing: boolean,
    facts: AlertFacts,
    state: AlertRuleState | undefined,
    now: DateTime
  ) {
    const row =
      state ??
      new AlertRuleState().merge({
        rule: rule.name,
        subject,
        failingSince: null,
        passingSince: null,
      })
    if (failing) row.merge({ failingSince: row.failingSince ?? now, passingSince: null })
    else row.merge({ passingSince: row.passingSince ?? now, failingSince: null })
    row.evaluatedAt = now
    await row.save()

    const key = alertKey(rule, subject)
    if (failing && now.diff(row.failingSince!).as('seconds') >= rule.forSeconds) {
      await this.alerts.raise(key, rule.severity, facts, { kind: `ops_${rule.name}` })
    } else if (!failing && now.diff(row.passingSince!).as('seconds') >= rule.clearAfterSeconds) {
      await this.alerts.clear(key, facts)
    }
  }

  #facts(verdict: RuleVerdict, now: DateTime): AlertFacts {
    const { rule, reading } = verdict
    const facts: AlertFacts = { ...(reading?.facts ?? {}) }
    // Always there: the titles name it (alerts.kinds.ops_*)
    facts.subject = verdict.subject
    facts.value =
      reading?.value === null || reading?.value === undefined ? null : round(reading.value)
    if (rule.above !== undefined) facts.above = rule.above
    if (rule.below !== undefined) facts.below = rule.below
    if (verdict.stale) {
      facts.notObservedSeconds = Math.round(now.diff(reading!.observedAt).as('seconds'))
      if (reading?.error) facts.checkError = reading.error
    }
    return facts
  }
}

export function alertKey(rule: Pick<AlertRule, 'name'>, subject: string) {
  return subject ? `ops_${rule.name}:${subject}` : `ops_${rule.name}`
}

const round = (value: number) => Math.round(value * 100) / 100
