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

/**
 * The German CIUS rules (BR-DE-*, XRechnung CII Schematron, ../shared/validation/xrechnung-cii).
 * Schematron source: compiled to XSLT by tests/support/schematron_to_xslt.xsl (run by xslt3), then
 * to SEF like the EN 16931 rules; both land in tmp/ and are reused while the sources are unchanged.
 */
const XRECHNUNG_SCH =
  process.env.XRECHNUNG_CII_SCH ??
  '/work/shared/validation/xrechnung-cii/XRechnung-CII-validation.sch'

export async function xrechnungStylesheet() {
  if (!existsSync(XRECHNUNG_SCH))
    throw new Error(`XRechnung CII rules not found at ${XRECHNUNG_SCH} (set XRECHNUNG_CII_SCH)`)
  const compiler = app.makePath('tests', 'support', 'schematron_to_xslt.xsl')
  const xsl = app.makePath('tmp', 'xrechnung-cii.xsl')
  const sef = app.makePath('tmp', 'xrechnung-cii.sef.json')
  const newest = Math.max(statSync(XRECHNUNG_SCH).mtimeMs, statSync(compiler).mtimeMs)
  if (existsSync(sef) && statSync(sef).mtimeMs >= newest) return sef
  await mkdir(app.makePath('tmp'), { recursive: true })
  const xslt3 = app.makePath('node_modules', 'xslt3', 'xslt3.js')
  const run = (args: string[]) =>
    promisify(execFile)(process.execPath, [xslt3, ...args], { timeout: 120_000 })
  await run([`-xsl:${compiler}`, `-s:${XRECHNUNG_SCH}`, `-o:${xsl}`])
  await run([`-xsl:${xsl}`, `-export:${sef}`, '-nogo', '-relocate:on'])
  return sef
}

export interface SchematronReport {
  failed: Array<{ id: string; text: string }>
  fired: number
}

let compiled: Promise<unknown> | null = null
let compiledXRechnung: Promise<unknown> | null = null

export async function validateCii(xml: string): Promise<SchematronReport> {
  compiled ??= en16931Stylesheet().then(async (sef) => JSON.parse(await readFile(sef, 'utf8')))
  return report(await compiled, xml)
}

/** The XRechnung CIUS rules (BR-DE-*); run them in addition to validateCii. */
export async function validateXRechnung(xml: string): Promise<SchematronReport> {
  compiledXRechnung ??= xrechnungStylesheet().then(async (sef) =>
    JSON.parse(await readFile(sef, 'utf8'))
  )
  return report(await compiledXRechnung, xml)
}

function report(stylesheet: unknown, xml: string): SchematronReport {
  const result = SaxonJS.transform(
    { stylesheetInternal: stylesheet, sourceText: xml, destination: 'serialized' },
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
