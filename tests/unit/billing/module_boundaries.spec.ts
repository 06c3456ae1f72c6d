import { test } from '@japa/runner'
import { readdir, readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import app from '@adonisjs/core/services/app'

/** ARCHITECTURE.md: billing imports accounts and core only; it learns of calls through their events. */
const FORBIDDEN =
  /from\s+['"]#(calls|fraud|privacy|plugins)\/|import\(['"]#(calls|fraud|privacy|plugins)\//

async function files(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true })
  const nested = await Promise.all(
    entries.map((entry) =>
      entry.isDirectory()
        ? files(join(folder, entry.name))
        : Promise.resolve([join(folder, entry.name)])
    )
  )
  return nested.flat().filter((file) => file.endsWith('.ts'))
}

test.group('Module boundaries', () => {
  test('billing imports nothing from calls, fraud, privacy or the carrier plugins', async ({
    assert,
  }) => {
    const root = app.makePath()
    const sources = await files(app.makePath('app/billing'))
    assert.isAbove(sources.length, 5, 'found the billing sources')
    const offenders: string[] = []
    for (const file of sources) {
      const text = await readFile(file, 'utf8')
      for (const line of text.split('\n'))
        if (FORBIDDEN.test(line)) offenders.push(`${relative(root, file)}: ${line.trim()}`)
    }
    assert.deepEqual(offenders, [])
  })
})
