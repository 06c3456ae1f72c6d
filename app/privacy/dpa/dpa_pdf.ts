import { PDFDocument, StandardFonts, rgb, type PDFFont, type PDFPage } from 'pdf-lib'
import { dpaBlocks } from '#privacy/dpa/dpa_text'
import type { DpaSnapshot } from '#privacy/dpa/dpa_snapshot'

/** The words of the PDF around the stored texts, in the snapshot's language. */
export interface DpaPdfLabels {
  acceptedBy: string
  annexToms: string
  annexSubProcessors: string
  annexSccs: string
  noSccs: string
  changes: string
  sha256: string
}

const A4: [number, number] = [595.28, 841.89]
const MARGIN = 56

/**
 * Renders an accepted DPA with its annexes as they stood at acceptance (the stored snapshot).
 * Standard PDF fonts cover Latin-1 (German included); any other character is printed as "?".
 */
export async function renderDpaPdf(
  snapshot: DpaSnapshot,
  acceptance: { line: string; sha256: string },
  labels: DpaPdfLabels
) {
  const pdf = await PDFDocument.create()
  pdf.setTitle(`FluffyCall DPA ${snapshot.version}`)
  pdf.setLanguage(snapshot.locale)
  pdf.setProducer('FluffyCall')
  pdf.setCreationDate(new Date(`${snapshot.takenOn}T00:00:00Z`))
  pdf.setModificationDate(new Date(`${snapshot.takenOn}T00:00:00Z`))
  const regular = await pdf.embedFont(StandardFonts.Helvetica)
  const bold = await pdf.embedFont(StandardFonts.HelveticaBold)
  const mono = await pdf.embedFont(StandardFonts.Courier)
  const writer = new PageWriter(pdf, regular)

  for (const block of dpaBlocks(snapshot.text)) {
    if (block.kind === 'title') writer.write(block.text, bold, 16, 10)
    else if (block.kind === 'heading') writer.write(block.text, bold, 12, 4, 8)
    else writer.write(block.text, regular, 10, 6)
  }
  writer.write(acceptance.line, bold, 10, 4, 12)
  writer.write(`${labels.sha256}: ${acceptance.sha256}`, mono, 7, 6)
  if (snapshot.changes.length) {
    writer.write(labels.changes, bold, 12, 4, 8)
    for (const change of snapshot.changes) writer.write(`- ${change}`, regular, 10, 2)
  }

  writer.newPage()
  writer.write(labels.annexToms, bold, 14, 8)
  for (const section of snapshot.toms) {
    writer.write(section.title, bold, 11, 3, 6)
    for (const item of section.items) writer.write(`- ${item}`, regular, 10, 2)
  }

  writer.newPage()
  writer.write(labels.annexSubProcessors, bold, 14, 8)
  for (const entry of snapshot.subProcessors) {
    writer.write(entry.name, bold, 10, 1, 6)
    writer.write(entry.address, regular, 9, 1)
    writer.write(entry.purpose, regular, 9, 1)
    if (entry.outsideEea.length) writer.write(entry.outsideEea.join(', '), regular, 9, 1)
  }

  writer.newPage()
  writer.write(labels.annexSccs, bold, 14, 8)
  if (!snapshot.sccAnnexes.length) writer.write(labels.noSccs, regular, 10, 4)
  for (const annex of snapshot.sccAnnexes) {
    writer.write(annex.name, bold, 11, 4, 8)
    for (const line of annex.text.split('\n')) writer.write(line || ' ', mono, 8, 0)
  }
  return pdf.save()
}

/** Lays out wrapped lines top to bottom, starting a new page when one is full. */
class PageWriter {
  #page: PDFPage
  #y = 0

  constructor(
    protected pdf: PDFDocument,
    protected font: PDFFont
  ) {
    this.#page = this.newPage()
  }

  newPage() {
    this.#page = this.pdf.addPage(A4)
    this.#y = A4[1] - MARGIN
    return this.#page
  }

  write(text: string, font: PDFFont, size: number, after: number, before = 0) {
    this.#y -= before
    const width = A4[0] - 2 * MARGIN
    for (const line of wrap(printable(text, font), font, size, width)) {
      if (this.#y - size < MARGIN) this.newPage()
      this.#y -= size * 1.25
      this.#page.drawText(line, { x: MARGIN, y: this.#y, size, font, color: rgb(0, 0, 0) })
    }
    this.#y -= after
  }
}

function printable(text: string, font: PDFFont) {
  const supported = new Set(font.getCharacterSet())
  return [...text].map((char) => (supported.has(char.codePointAt(0)!) ? char : '?')).join('')
}

function wrap(text: string, font: PDFFont, size: number, width: number) {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(' ')) {
    const candidate = line ? `${line} ${word}` : word
    if (font.widthOfTextAtSize(candidate, size) <= width || !line) {
      line = candidate
    } else {
      lines.push(line)
      line = word
    }
  }
  lines.push(line)
  // A single word wider than the page (a hash, a URL) is cut by characters.
  return lines.flatMap((entry) => {
    if (font.widthOfTextAtSize(entry, size) <= width) return [entry]
    const parts: string[] = []
    let part = ''
    for (const char of entry) {
      if (font.widthOfTextAtSize(part + char, size) > width) {
        parts.push(part)
        part = ''
      }
      part += char
    }
    return [...parts, part]
  })
}
