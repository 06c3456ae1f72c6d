import type { I18n } from '@adonisjs/i18n'
import type { PublishedSccTransfer } from '#core/services/sub_processor_registry'
import type { PublishedSubProcessor } from '#privacy/services/transparency_service'
import { TOM_SECTIONS, tomItemKeys } from '#privacy/technical_measures'
import { operator } from '#config/privacy'

function locations(entry: PublishedSubProcessor, i18n: I18n) {
  const { processing } = entry.metadata
  return (['signalling', 'media', 'metadata'] as const).map(
    (kind) =>
      `  - ${i18n.t(`transparency.list.${kind}`)}: ${processing[kind].map((l) => `${l.dataCentre}`).join(', ')}`
  )
}

/**
 * The SCC annexes as they stand today, as plain text: Annex I (parties, description of the
 * transfer), Annex II (our TOMs, from the same texts as the TOMs page), Annex III (our current
 * sub-processors). Built from the running configuration, like the pages.
 */
export function buildSccAnnex(
  entry: PublishedSubProcessor,
  sccs: PublishedSccTransfer[],
  all: PublishedSubProcessor[],
  i18n: I18n,
  today: string
) {
  const meta = entry.metadata
  const address = meta.legalEntity.address
  const lines = [
    i18n.t('transparency.annex.title', { name: meta.legalEntity.name }),
    i18n.t('transparency.annex.as_of', { date: today }),
    ...sccs.map(
      (scc) =>
        `${i18n.t('transparency.sccs.module', { module: scc.module })} · ${scc.country} · ${scc.reference}`
    ),
    ...(meta.confirmed ? [] : [`(${i18n.t('transparency.list.unconfirmed')})`]),
    '',
    i18n.t('transparency.annex.annex1'),
    i18n.t('transparency.annex.parties'),
    `${i18n.t('transparency.annex.exporter')}: ${operator.name}, ${operator.contact}`,
    `  ${i18n.t('transparency.annex.role_exporter')}`,
    `${i18n.t('transparency.annex.importer')}: ${meta.legalEntity.name}, ${address.street}, ${address.postalCode} ${address.city}, ${address.country}`,
    `  ${i18n.t('transparency.annex.role_importer')}`,
    '',
    i18n.t('transparency.annex.description'),
    `- ${i18n.t('transparency.annex.subjects')}`,
    `- ${i18n.t('transparency.list.data')}: ${meta.dataCategories.map((c) => i18n.t(`transparency.categories.${c}`)).join(', ')}`,
    `- ${i18n.t('transparency.list.purpose')}: ${meta.purpose[i18n.locale === 'en' ? 'en' : 'de']}`,
    `- ${i18n.t('transparency.list.locations')}:`,
    ...locations(entry, i18n),
    `- ${i18n.t('transparency.annex.frequency')}`,
    `- ${i18n.t('transparency.list.dpa')}: ${meta.dpaUrl}`,
    '',
    i18n.t('transparency.annex.annex2'),
    ...TOM_SECTIONS.flatMap((section) => [
      `${i18n.t(`transparency.toms.${section.key}_title`)}:`,
      ...tomItemKeys(section).map((key) => `- ${i18n.t(key)}`),
    ]),
    '',
    i18n.t('transparency.annex.annex3'),
    ...all.map(
      (other) =>
        `- ${other.metadata.legalEntity.name} (${other.metadata.legalEntity.address.city}, ${other.metadata.legalEntity.address.country}): ${other.metadata.purpose[i18n.locale === 'en' ? 'en' : 'de']}`
    ),
    `- ${i18n.t('transparency.annex.importer_subs')}: ${meta.dpaUrl}`,
    '',
  ]
  return lines.join('\n')
}
