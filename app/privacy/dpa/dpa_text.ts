/** One block of a DPA text: the files in resources/dpa use "# " and "## " headings and paragraphs. */
export interface DpaBlock {
  kind: 'title' | 'heading' | 'paragraph'
  text: string
}

export function dpaBlocks(text: string): DpaBlock[] {
  const blocks: DpaBlock[] = []
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.trim()
    if (!trimmed) continue
    if (trimmed.startsWith('## ')) blocks.push({ kind: 'heading', text: trimmed.slice(3) })
    else if (trimmed.startsWith('# ')) blocks.push({ kind: 'title', text: trimmed.slice(2) })
    else blocks.push({ kind: 'paragraph', text: trimmed })
  }
  return blocks
}
