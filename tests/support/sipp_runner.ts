import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const SIPP = process.env.SIPP_PATH ?? '/usr/bin/sipp'
export const SIPP_SCENARIOS = fileURLToPath(new URL('../e2e/sipp/', import.meta.url))

/** Fails (never skips) when sipp is absent, saying how to get it. */
export function requireSipp(): void {
  const probe = spawnSync(SIPP, ['-v'], { encoding: 'utf8' })
  if (probe.error || !`${probe.stdout}${probe.stderr}`.includes('SIPp')) {
    throw new Error(`sipp not found at ${SIPP}: install it with "apt-get install sip-tester"`)
  }
}

/** Fails when a Debian tool is missing, naming the package. */
export function requireTool(binary: string, debianPackage: string): void {
  const probe = spawnSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' })
  if (probe.status !== 0) {
    throw new Error(`${binary} not found: install it with "apt-get install ${debianPackage}"`)
  }
}

export interface SippResult {
  code: number | null
  output: string
}

/**
 * Runs sipp once with a scenario from tests/e2e/sipp (-m 1, -timeout, -nostdin), in a scratch
 * directory so its log files stay out of the repository.
 */
export function runSipp(
  scenario: string,
  target: string,
  extraArgs: string[] = [],
  timeoutSeconds = 10
): Promise<SippResult> {
  requireSipp()
  const cwd = mkdtempSync(join(tmpdir(), 'fluffycall-sipp-'))
  const args = [
    target,
    '-sf',
    join(SIPP_SCENARIOS, scenario),
    '-m',
    '1',
    '-timeout',
    `${timeoutSeconds}s`,
    '-nostdin',
    '-i',
    '127.0.0.1',
    ...extraArgs,
  ]
  return new Promise((resolve, reject) => {
    const child = spawn(SIPP, args, { cwd })
    let output = ''
    child.stdout.on('data', (chunk) => (output += chunk.toString()))
    child.stderr.on('data', (chunk) => (output += chunk.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, output: output.slice(-4000) }))
  })
}
