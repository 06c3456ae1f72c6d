import { writeFileSync } from 'node:fs'
import type { NamedReporterContract } from '@japa/runner/types'

/**
 * Prints the plain closing line `N passed, N failed` and, when TEST_SUMMARY_FILE is set, writes
 * the counts there so that bin/test can add up several runs (SQLite, PostgreSQL + Redis).
 */
export function summaryReporter(): NamedReporterContract {
  return {
    name: 'summary',
    handler: (runner, emitter) => {
      emitter.on('runner:end', () => {
        const { aggregates, hasError } = runner.getSummary()
        const failed = aggregates.failed + (hasError && aggregates.failed === 0 ? 1 : 0)
        const file = process.env.TEST_SUMMARY_FILE
        if (file) {
          writeFileSync(
            file,
            JSON.stringify({ passed: aggregates.passed, failed, skipped: aggregates.skipped })
          )
        }
        process.stdout.write(
          `\n${aggregates.passed} passed, ${failed} failed, ${aggregates.skipped} skipped\n`
        )
      })
    },
  }
}
