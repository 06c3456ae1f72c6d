import type { I18n } from '@adonisjs/i18n'
import type AuditEntry from '#accounts/models/audit_entry'
import Company from '#accounts/models/company'
import { COMPANY_STATUSES } from '#accounts/models/company'
import { DateTime } from 'luxon'
import { formatDate, phoneNumber } from '#core/formatting'

export interface AuditDetail {
  label: string
  value: string
}

export interface AuditLine {
  entry: AuditEntry
  /** The action in words ("Firmenstatus geändert"); an action without a label keeps its key. */
  action: string
  target: string
  /** The company's name (staff see entries of every company). */
  company: string
  details: AuditDetail[]
}

/** Detail keys whose values are words of another module's vocabulary (the key's prefix). */
const VALUE_WORDS: Record<string, string> = {
  kind: 'privacy.kinds',
  channel: 'privacy.channels',
  ground: 'privacy.restriction.grounds',
}

/** "de" → "Deutsch" / "German". */
function languageName(code: string, locale: string) {
  try {
    return new Intl.DisplayNames([locale], { type: 'language' }).of(code) ?? code
  } catch {
    return code
  }
}

/**
 * Turns audit entries into lines people read: labelled actions, targets and details in the page's
 * language instead of keys and JSON. The entries themselves stay as stored (append-only).
 */
export default class AuditPresenter {
  constructor(private i18n: I18n) {}

  /** The lines of one page of entries, with the names of the companies they concern. */
  async presentAll(entries: AuditEntry[]): Promise<AuditLine[]> {
    const ids = [
      ...new Set(entries.map((entry) => entry.companyId).filter((id): id is number => id !== null)),
    ]
    const companies = ids.length ? await Company.query().whereIn('id', ids) : []
    const names = new Map(companies.map((company) => [company.id, company.displayName]))
    return entries.map((entry) => this.present(entry, names))
  }

  present(entry: AuditEntry, companyNames = new Map<number, string>()): AuditLine {
    return {
      entry,
      company:
        entry.companyId === null
          ? ''
          : (companyNames.get(entry.companyId) ?? `#${entry.companyId}`),
      action: this.#label(`audit.actions.${entry.action}`, entry.action),
      target: entry.targetType
        ? `${this.#label(`audit.targets.${entry.targetType}`, entry.targetType)} ${this.#value(entry.targetType === 'phone_number' ? 'number' : 'id', entry.targetId)}`
        : '',
      details: Object.entries(entry.details ?? {}).map(([key, value]) => ({
        label: this.#label(`audit.details.${key}`, key),
        value: this.#value(key, value),
      })),
    }
  }

  /**
   * The filter's choices: every action with a label, in words, sorted as people read them (the
   * filter matches the stored key).
   */
  actionOptions(): Array<{ value: string; label: string }> {
    const prefix = 'audit.actions.'
    return Object.keys({ ...this.i18n.fallbackTranslations, ...this.i18n.localeTranslations })
      .filter((key) => key.startsWith(prefix))
      .map((key) => ({ value: key.slice(prefix.length), label: this.i18n.t(key) }))
      .sort((a, b) => a.label.localeCompare(b.label, this.i18n.locale))
  }

  #label(key: string, fallback: string) {
    return this.i18n.hasMessage(key) ? this.i18n.t(key) : fallback
  }

  #value(key: string, value: unknown): string {
    if (value === null || value === undefined || value === '') return '–'
    if (typeof value === 'boolean') return this.i18n.t(`audit.values.${value ? 'yes' : 'no'}`)
    if (Array.isArray(value))
      return value.length ? value.map((item) => this.#value(key, item)).join(', ') : '–'
    if (typeof value === 'object') {
      return Object.entries(value as Record<string, unknown>)
        .map(
          ([inner, innerValue]) =>
            `${this.#label(`audit.details.${inner}`, inner)}: ${this.#value(inner, innerValue)}`
        )
        .join(', ')
    }
    const text = String(value)
    const vocabulary = VALUE_WORDS[key]
    if (vocabulary && this.i18n.hasMessage(`${vocabulary}.${text}`))
      return this.i18n.t(`${vocabulary}.${text}`)
    if (key === 'locale' && /^[a-z]{2}$/.test(text)) return languageName(text, this.i18n.locale)
    // A checksum is recognised by its start, as commit ids are
    if (key === 'sha256' && text.length > 16) return `${text.slice(0, 16)}…`
    if ((COMPANY_STATUSES as readonly string[]).includes(text) && (key === 'from' || key === 'to'))
      return this.i18n.t(`ui.status.${text}`)
    if (this.i18n.hasMessage(`permissions.${text}`)) return this.i18n.t(`permissions.${text}`)
    if (this.i18n.hasMessage(`ui.roles.${text}`) && (key === 'role' || key === 'to'))
      return this.i18n.t(`ui.roles.${text}`)
    if (this.i18n.hasMessage(`audit.values.${text}`)) return this.i18n.t(`audit.values.${text}`)
    if (/^\+\d{6,}/.test(text))
      return text
        .split('..')
        .map((part) => phoneNumber(part))
        .join(' – ')
    if (/^\d{4}-\d\d-\d\dT/.test(text)) {
      const time = DateTime.fromISO(text, { zone: 'utc' })
      if (time.isValid)
        return `${time.setLocale(this.i18n.locale).toLocaleString({ dateStyle: 'medium', timeStyle: 'short' })} UTC`
    }
    if (/^\d{4}-\d\d-\d\d$/.test(text))
      return formatDate(DateTime.fromISO(text, { zone: 'utc' }), this.i18n.locale)
    return text
  }
}
