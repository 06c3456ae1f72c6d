import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import logger from '@adonisjs/core/services/logger'
import { TEST_LOG_FILE } from '#config/logger'

/**
 * The test process's log file (config/logger.ts) up to a marker written now: the logger writes
 * through a worker thread, so the marker shows when everything before it has reached the file.
 */
export async function logLinesUntilMarker() {
  if (!TEST_LOG_FILE) throw new Error('tests log into a file (config/logger.ts)')
  const marker = `log-marker-${randomBytes(6).toString('hex')}`
  logger.warn({ marker }, 'canary check')
  const deadline = Date.now() + 10_000
  for (;;) {
    const text = existsSync(TEST_LOG_FILE) ? readFileSync(TEST_LOG_FILE, 'utf8') : ''
    if (text.includes(marker)) return text
    if (Date.now() > deadline) throw new Error(`the log marker did not reach ${TEST_LOG_FILE}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** What the process logs while `action` runs, as parsed JSON lines. */
export async function logsOf(action: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const before = (await logLinesUntilMarker()).length
  await action()
  return (await logLinesUntilMarker())
    .slice(before)
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
}
