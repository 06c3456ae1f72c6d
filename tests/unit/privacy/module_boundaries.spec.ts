import { test } from '@japa/runner'
import { readdir, readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import app from '@adonisjs/core/services/app'

/**
 * ARCHITECTURE.md: privacy imports accounts and core only. The one exception is the registry of
 * personal-data declarations, whose job is to collect every module's declaration file.
 */
const ALLOWED = new Set(['app/privacy/personal_data_registry.ts'])
const FORBIDDEN = /from\s+['"]#(calls|billing|fraud)\//

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
  test('privacy imports nothing from calls, billing or fraud', async ({ assert }) => {
    const root = app.makePath()
    const sources = await files(app.makePath('app/privacy'))
    assert.isAbove(sources.length, 5, 'found the privacy sources')
    const offenders: string[] = []
    for (const file of sources) {
      const path = relative(root, file)
      if (ALLOWED.has(path)) continue
      const text = await readFile(file, 'utf8')
      for (const line of text.split('\n'))
        if (FORBIDDEN.test(line)) offenders.push(`${path}: ${line.trim()}`)
    }
    assert.deepEqual(offenders, [])
  })
})
