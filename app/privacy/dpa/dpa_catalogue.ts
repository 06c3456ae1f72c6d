import { readFile } from 'node:fs/promises'
import { DateTime } from 'luxon'
import app from '@adonisjs/core/services/app'

export type DpaLocale = 'de' | 'en'

/** One published version of the DPA (AVV, Art. 28 GDPR); its text lives in resources/dpa/<version>/<locale>.md. */
export interface DpaVersion {
  version: string
  /** From this day (Europe/Berlin) the version applies to new companies. */
  publishedOn: string
  /**
   * Companies that were customers before this version (an earlier acceptance, or created before the
   * first version) keep calling this many days after `publishedOn` while the owner reads the changes.
   */
  graceDays: number
  /** What changed against the previous version, in both languages (empty for the first). */
  changes: Record<DpaLocale, string[]>
}

/** The versions, oldest first. A new version is a new entry here and a new folder of texts. */
export const DPA_VERSIONS: DpaVersion[] = [
  {
    version: '1.0',
    publishedOn: '2026-12-01',
    graceDays: 42,
    changes: { de: [], en: [] },
  },
]

/**
 * The versions the product knows. A container singleton, so tests can publish a newer version
 * (`use`) and every reader (pages, call gate) sees it at once.
 */
export default class DpaCatalogue {
  #versions: DpaVersion[] = DPA_VERSIONS
  #texts = new Map<string, string>()
  /** The last Berlin day asked for, as instants [from, until): every call's gate asks (issue 17). */
  #day: { from: number; until: number; date: string } | null = null

  use(versions: DpaVersion[]) {
    this.#versions = versions
  }

  reset() {
    this.#versions = DPA_VERSIONS
  }

  get versions(): readonly DpaVersion[] {
    return this.#versions
  }

  /** The newest version published on or before `now`. */
  current(now: DateTime): DpaVersion {
    const today = this.#berlinDate(now)
    const published = this.#versions.filter((entry) => entry.publishedOn <= today)
    return published.at(-1) ?? this.#versions[0]
  }

  /** `now`'s date in Europe/Berlin; the zone's offsets are worked out once per day, not per call. */
  #berlinDate(now: DateTime): string {
    const instant = now.toMillis()
    const day = this.#day
    if (day && instant >= day.from && instant < day.until) return day.date
    const local = now.setZone('Europe/Berlin')
    const start = local.startOf('day')
    const next = { from: start.toMillis(), until: start.plus({ days: 1 }).toMillis() }
    this.#day = { ...next, date: local.toISODate()! }
    return this.#day.date
  }

  find(version: string) {
    return this.#versions.find((entry) => entry.version === version) ?? null
  }

  /** The change lists of every version after `since` up to and including `until`, newest first. */
  changesBetween(since: string | null, until: DpaVersion): DpaVersion[] {
    const from = since === null ? -1 : this.#versions.findIndex((entry) => entry.version === since)
    const to = this.#versions.indexOf(until)
    return this.#versions.slice(from + 1, to + 1).reverse()
  }

  /** The day the grace period for `version` ends (exclusive), at midnight Europe/Berlin. */
  graceEnd(version: DpaVersion): DateTime {
    return DateTime.fromISO(version.publishedOn, { zone: 'Europe/Berlin' }).plus({
      days: version.graceDays,
    })
  }

  async text(version: DpaVersion, locale: DpaLocale): Promise<string> {
    const key = `${version.version}/${locale}`
    let text = this.#texts.get(key)
    if (text === undefined) {
      // Versions published by tests reuse the first version's text.
      const folder =
        this.find(version.version) &&
        DPA_VERSIONS.some((entry) => entry.version === version.version)
          ? version.version
          : DPA_VERSIONS[0].version
      text = await readFile(app.makePath('resources', 'dpa', folder, `${locale}.md`), 'utf8')
      this.#texts.set(key, text)
    }
    return text
  }
}

export function dpaLocale(locale: string | undefined | null): DpaLocale {
  return locale === 'en' ? 'en' : 'de'
}
