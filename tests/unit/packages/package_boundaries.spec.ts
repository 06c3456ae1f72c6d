import { test } from '@japa/runner'
import { readdir, readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import app from '@adonisjs/core/services/app'

/**
 * ARCHITECTURE.md: packages/sip and packages/media are protocol libraries. They import nothing of
 * app/, config/, start/, env or the framework (only their own files and npm packages), and the
 * application imports each through its one public entry (`#sip`, `#media`), never a file inside.
 * werift is the media package's business alone. Their own tests and the benchmarks may reach
 * inside (and use werift as a reference peer).
 */
const PACKAGES = ['sip', 'media'] as const
const APPLICATION = ['app', 'providers', 'config', 'start', 'database', 'plugins', 'bin']

/** process.env, process['env'] or a destructured `{ env } = process`. */
const ENV_READ =
  /\bprocess\s*(?:\.\s*env\b|\[\s*['"]env['"]\s*\])|\{[^}]*\benv\b[^}]*\}\s*=\s*process\b/

async function files(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true }).catch(() => [])
  const nested = await Promise.all(
    entries.map((entry) =>
      entry.isDirectory()
        ? files(join(folder, entry.name))
        : Promise.resolve([join(folder, entry.name)])
    )
  )
  return nested.flat().filter((file) => file.endsWith('.ts'))
}

/** Every module specifier a file imports or re-exports, statically or dynamically, with its line. */
function specifiers(text: string): Array<{ specifier: string; line: string }> {
  const found: Array<{ specifier: string; line: string }> = []
  const pattern = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm
  for (const match of text.matchAll(pattern)) {
    const start = text.lastIndexOf('\n', match.index) + 1
    const end = text.indexOf('\n', match.index + match[0].length)
    found.push({
      specifier: match[1],
      line: text.slice(start, end === -1 ? undefined : end).trim(),
    })
  }
  return found
}

/** Why a package file may not import `specifier`, or null when it may. */
export function packageImportProblem(pkg: string, specifier: string): string | null {
  if (specifier.startsWith('.')) {
    return specifier.startsWith('../..') ? 'relative import that leaves the package' : null
  }
  if (specifier.startsWith('#')) {
    return specifier.startsWith(`#${pkg}/`) ? null : 'application alias'
  }
  if (specifier.startsWith('@adonisjs/')) return 'framework'
  if (specifier === 'werift' || specifier.startsWith('werift/')) {
    return pkg === 'media' ? null : 'werift outside packages/media'
  }
  return null
}

/** Why an application file may not import `specifier`, or null when it may. */
export function applicationImportProblem(specifier: string): string | null {
  if (/^#(sip|media)\//.test(specifier)) return 'a file inside a package instead of its index'
  if (specifier === 'werift' || specifier.startsWith('werift/'))
    return 'werift outside packages/media'
  return null
}

test.group('Package boundaries', () => {
  test('the rules themselves tell allowed from forbidden imports', ({ assert }) => {
    assert.isNull(packageImportProblem('sip', '#sip/message/sip_uri'))
    assert.isNull(packageImportProblem('sip', 'node:crypto'))
    assert.isNull(packageImportProblem('media', 'werift'))
    assert.equal(
      packageImportProblem('sip', '#calls/services/sip_device_service'),
      'application alias'
    )
    assert.equal(packageImportProblem('sip', '#start/env'), 'application alias')
    assert.equal(packageImportProblem('sip', '#media/types'), 'application alias')
    assert.equal(packageImportProblem('sip', '@adonisjs/core/services/app'), 'framework')
    assert.equal(packageImportProblem('sip', 'werift'), 'werift outside packages/media')
    assert.equal(
      packageImportProblem('sip', '../../app/core/proxy_trust.js'),
      'relative import that leaves the package'
    )
    assert.isTrue(ENV_READ.test('const port = process.env.SIP_PORT'))
    assert.isTrue(ENV_READ.test('const { env } = process'))
    assert.isFalse(ENV_READ.test('const environment = options.env'))
    assert.isNull(applicationImportProblem('#sip'))
    assert.isNotNull(applicationImportProblem('#sip/sip_stack'))
    assert.isNotNull(applicationImportProblem('#media/werift_media_engine'))
    assert.isNotNull(applicationImportProblem('werift'))
    assert.deepEqual(
      specifiers(
        "import a from '#a/b'\nexport { c } from './c.js'\nconst d = await import('#d')\nimport 'e'\n"
      ).map((found) => found.specifier),
      ['#a/b', './c.js', '#d', 'e']
    )
  })

  test('packages import nothing of the application or the framework, and only media imports werift', async ({
    assert,
  }) => {
    const root = app.makePath()
    const offenders: string[] = []
    for (const pkg of PACKAGES) {
      const sources = await files(app.makePath('packages', pkg))
      assert.isAbove(sources.length, pkg === 'sip' ? 50 : 8, `found the sources of packages/${pkg}`)
      assert.include(
        sources.map((file) => relative(root, file)),
        join('packages', pkg, 'index.ts')
      )
      for (const file of sources) {
        const text = await readFile(file, 'utf8')
        for (const { specifier, line } of specifiers(text)) {
          const problem = packageImportProblem(pkg, specifier)
          if (problem) offenders.push(`${relative(root, file)} (${problem}): ${line}`)
        }
        // Settings come in from whoever assembles the library, never from the environment.
        for (const line of text.split('\n').filter((candidate) => ENV_READ.test(candidate))) {
          offenders.push(`${relative(root, file)} (reads the environment): ${line.trim()}`)
        }
      }
    }
    assert.deepEqual(offenders, [])
  })

  test('the application imports the packages only through their index, and never werift', async ({
    assert,
  }) => {
    const root = app.makePath()
    const sources = (
      await Promise.all(APPLICATION.map((folder) => files(app.makePath(folder))))
    ).flat()
    assert.isAbove(sources.length, 100, 'found the application sources')
    const offenders: string[] = []
    for (const file of sources) {
      for (const { specifier, line } of specifiers(await readFile(file, 'utf8'))) {
        const problem = applicationImportProblem(specifier)
        if (problem) offenders.push(`${relative(root, file)} (${problem}): ${line}`)
      }
    }
    assert.deepEqual(offenders, [])
  })
})
