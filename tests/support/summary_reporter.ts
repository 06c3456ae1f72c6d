import { writeFileSync } from 'node:fs'
import type { NamedReporterContract } from '@japa/runner/types'

/**
 * Prints the plain closing line `N passed, N failed` and, when TEST_SUMMARY_FILE is set, writes
 * the counts there so that bin/test can add up several runs (SQLite, PostgreSQL + Redis).
 * When TEST_TIMINGS_FILE is set, it also writes each file's wall time in seconds, group hooks
 * included (server boots, browsers), slowest first: the CI budget is spent per file.
 */
export function summaryReporter(): NamedReporterContract {
  return {
    name: 'summary',
    handler: (runner, emitter) => {
      const timings = new Map<string, number>()
      let current: { file: string; since: number } | undefined
      const enter = (file: unknown) => {
        if (typeof file !== 'string' || file === current?.file) return
        leave()
        current = { file, since: performance.now() }
      }
      const leave = () => {
        if (!current) return
        const spent = (performance.now() - current.since) / 1000
        timings.set(current.file, (timings.get(current.file) ?? 0) + spent)
        current = undefined
      }
      emitter.on('group:start', (group) => enter(group.meta.fileName))
      emitter.on('test:start', (test) => enter(test.meta.fileName))
      emitter.on('suite:end', () => leave())
      emitter.on('runner:end', () => {
        leave()
        const timingsFile = process.env.TEST_TIMINGS_FILE
        if (timingsFile) {
          const slowestFirst = [...timings].sort((a, b) => b[1] - a[1])
          writeFileSync(
            timingsFile,
            slowestFirst.map(([file, seconds]) => `${seconds.toFixed(1)}\t${file}`).join('\n') +
              '\n'
          )
        }
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
