/** A dialog's state in the RFC 4235 sense. */
export type DialogActivity = 'trying' | 'proceeding' | 'early' | 'confirmed' | 'terminated'

/** One dialog of the watched resource. */
export interface DialogInfoEntry {
  /** Stable for the dialog's life (any token the owner chooses; never personal data). */
  id: string
  state: DialogActivity
  /** initiator: the resource called; recipient: it was called. */
  direction?: 'initiator' | 'recipient'
}

export interface DialogInfoDocument {
  version: number
  entity: string
  entries: DialogInfoEntry[]
}

/** The full-state dialog-info+xml document of RFC 4235 4.1 (no participants: who is on the line stays private). */
export function dialogInfoXml(document: DialogInfoDocument): string {
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="${document.version}" state="full" entity="${escapeXml(document.entity)}">`,
  ]
  for (const entry of document.entries) {
    const direction = entry.direction ? ` direction="${entry.direction}"` : ''
    lines.push(`  <dialog id="${escapeXml(entry.id)}"${direction}>`)
    lines.push(`    <state>${entry.state}</state>`)
    lines.push('  </dialog>')
  }
  lines.push('</dialog-info>', '')
  return lines.join('\r\n')
}

function escapeXml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
}
