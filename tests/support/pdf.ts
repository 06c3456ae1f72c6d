import { inflateSync } from 'node:zlib'

/**
 * The text a PDF written by pdf-lib shows: its content streams inflated, the hex strings of the
 * text operators decoded (standard fonts, WinAnsi: Latin-1 for the letters we print). Enough to
 * check our own documents; not a general PDF reader.
 */
export function pdfText(bytes: Uint8Array): string {
  const buffer = Buffer.from(bytes)
  const source = buffer.toString('latin1')
  const lines: string[] = []
  const stream = /stream\r?\n/g
  let match: RegExpExecArray | null
  while ((match = stream.exec(source))) {
    const start = match.index + match[0].length
    const end = source.indexOf('endstream', start)
    if (end === -1) break
    let content: string
    try {
      content = inflateSync(buffer.subarray(start, end)).toString('latin1')
    } catch {
      content = source.slice(start, end)
    }
    for (const text of content.matchAll(/<([0-9A-Fa-f]*)>\s*Tj/g))
      lines.push(Buffer.from(text[1], 'hex').toString('latin1'))
    stream.lastIndex = end + 'endstream'.length
  }
  return lines.join(' ')
}
