import { createHash } from 'node:crypto'
import type { I18n } from '@adonisjs/i18n'
import type TransparencyService from '#privacy/services/transparency_service'
import { buildSccAnnex } from '#privacy/services/scc_annex'
import { TOM_SECTIONS, tomItemKeys } from '#privacy/technical_measures'
import type { DpaLocale, DpaVersion } from '#privacy/dpa/dpa_catalogue'

/**
 * The DPA as the owner accepted it: the text of the version and its annexes as they stood at that
 * moment (Annex 1 TOMs, Annex 2 sub-processors, Annex 3 SCC annexes). Stored as JSON with its
 * SHA-256, so the PDF shows what was agreed even after the pages have changed.
 */
export interface DpaSnapshot {
  version: string
  locale: DpaLocale
  publishedOn: string
  /** ISO date the snapshot was taken (the acceptance). */
  takenOn: string
  text: string
  changes: string[]
  toms: Array<{ title: string; items: string[] }>
  subProcessors: Array<{
    name: string
    address: string
    purpose: string
    status: string
    outsideEea: string[]
  }>
  sccAnnexes: Array<{ key: string; name: string; text: string }>
}

export async function takeDpaSnapshot(
  version: DpaVersion,
  text: string,
  i18n: I18n,
  transparency: TransparencyService,
  takenOn: string
): Promise<DpaSnapshot> {
  const locale: DpaLocale = i18n.locale === 'en' ? 'en' : 'de'
  const all = await transparency.subProcessors()
  const sccs = await transparency.sccCarriers()
  return {
    version: version.version,
    locale,
    publishedOn: version.publishedOn,
    takenOn,
    text,
    changes: version.changes[locale],
    toms: TOM_SECTIONS.map((section) => ({
      title: i18n.t(`transparency.toms.${section.key}_title`),
      items: tomItemKeys(section).map((key) => i18n.t(key)),
    })),
    subProcessors: all.map((entry) => {
      const address = entry.metadata.legalEntity.address
      return {
        name: entry.metadata.legalEntity.name,
        address: `${address.street}, ${address.postalCode} ${address.city}, ${address.country}`,
        purpose: entry.metadata.purpose[locale],
        status: entry.status,
        outsideEea: entry.outsideEea,
      }
    }),
    sccAnnexes: sccs.map((item) => ({
      key: item.entry.key,
      name: item.entry.metadata.legalEntity.name,
      text: buildSccAnnex(item.entry, item.sccs, all, i18n, takenOn),
    })),
  }
}

/** The stored form: canonical JSON (key order as built) and its SHA-256 in hex. */
export function sealSnapshot(snapshot: DpaSnapshot) {
  const json = JSON.stringify(snapshot)
  return { json, sha256: createHash('sha256').update(json, 'utf8').digest('hex') }
}

export class DpaSnapshotTamperedError extends Error {
  constructor(readonly acceptanceId: number) {
    super(`The stored DPA snapshot of acceptance ${acceptanceId} does not match its SHA-256`)
  }
}

/** Reads a stored snapshot back, refusing one whose bytes no longer match the hash. */
export function openSnapshot(acceptance: {
  id: number
  snapshot: string
  snapshotHash: string
}): DpaSnapshot {
  const sha256 = createHash('sha256').update(acceptance.snapshot, 'utf8').digest('hex')
  if (sha256 !== acceptance.snapshotHash) throw new DpaSnapshotTamperedError(acceptance.id)
  return JSON.parse(acceptance.snapshot) as DpaSnapshot
}
