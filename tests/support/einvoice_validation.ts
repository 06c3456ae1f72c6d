import { existsSync, statSync } from 'node:fs'
import { mkdir, readFile } from 'node:fs/promises'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import app from '@adonisjs/core/services/app'
// @ts-expect-error saxon-js ships no types
import SaxonJS from 'saxon-js'

/**
 * The official EN 16931 CII Schematron (../shared/validation, compiled XSLT) run with saxon-js.
 * Compiled once into tmp/ with xslt3 (about 20 s) and reused while the XSLT is unchanged.
 */
const XSLT =
  process.env.EN16931_CII_XSLT ?? '/work/shared/validation/en16931-cii/EN16931-CII-validation.xslt'

export async function en16931Stylesheet() {
  if (!existsSync(XSLT))
    throw new Error(`EN 16931 CII rules not found at ${XSLT} (set EN16931_CII_XSLT)`)
  const sef = app.makePath('tmp', 'en16931-cii.sef.json')
  if (existsSync(sef) && statSync(sef).mtimeMs >= statSync(XSLT).mtimeMs) return sef
  await mkdir(app.makePath('tmp'), { recursive: true })
  const xslt3 = app.makePath('node_modules', 'xslt3', 'xslt3.js')
  await promisify(execFile)(
    process.execPath,
    [xslt3, `-xsl:${XSLT}`, `-export:${sef}`, '-nogo', '-relocate:on'],
    { timeout: 120_000 }
  )
  return sef
}

export interface SchematronReport {
  failed: Array<{ id: string; text: string }>
  fired: number
}

let compiled: Promise<unknown> | null = null

export async function validateCii(xml: string): Promise<SchematronReport> {
  compiled ??= en16931Stylesheet().then(async (sef) => JSON.parse(await readFile(sef, 'utf8')))
  const result = SaxonJS.transform(
    { stylesheetInternal: await compiled, sourceText: xml, destination: 'serialized' },
    'sync'
  )
  const svrl: string = result.principalResult
  const failed = [
    ...svrl.matchAll(
      /<svrl:failed-assert\b[^>]*\bid="([^"]*)"[^>]*>([\s\S]*?)<\/svrl:failed-assert>/g
    ),
  ].map((match) => ({
    id: match[1],
    text: match[2].replace(/<[^>]+>/g, '').trim(),
  }))
  return { failed, fired: (svrl.match(/<svrl:fired-rule/g) ?? []).length }
}
