import type { HistoryEntry } from '#privacy/services/transparency_service'

function escapeXml(value: string) {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
}

export interface AtomFeedOptions {
  baseUrl: string
  title: string
  /** The entry's human sentence in the feed's language. */
  describe: (entry: HistoryEntry) => string
}

/** An Atom 1.0 (RFC 4287) feed of sub-processor changes; ids are stable tag URIs, times in whole UTC seconds. */
export function buildAtomFeed(entries: HistoryEntry[], options: AtomFeedOptions) {
  const updated =
    (entries[0]?.recordedAt ?? null)
      ?.toUTC()
      .startOf('second')
      .toISO({ suppressMilliseconds: true }) ?? '2025-01-01T00:00:00Z'
  const items = entries
    .map((entry) => {
      const text = escapeXml(options.describe(entry))
      const when = entry.recordedAt.toUTC().startOf('second').toISO({ suppressMilliseconds: true })
      return [
        '  <entry>',
        `    <id>tag:fluffycall.de,2025:sub-processors/${escapeXml(entry.id)}</id>`,
        `    <title>${text}</title>`,
        `    <updated>${when}</updated>`,
        `    <link href="${escapeXml(options.baseUrl)}/transparency/history"/>`,
        `    <summary>${text}</summary>`,
        '  </entry>',
      ].join('\n')
    })
    .join('\n')
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<feed xmlns="http://www.w3.org/2005/Atom">',
    `  <id>tag:fluffycall.de,2025:sub-processors</id>`,
    `  <title>${escapeXml(options.title)}</title>`,
    `  <updated>${updated}</updated>`,
    `  <link rel="self" href="${escapeXml(options.baseUrl)}/transparency/feed.atom"/>`,
    `  <author><name>FluffyCall</name></author>`,
    items,
    '</feed>',
    '',
  ].join('\n')
}
