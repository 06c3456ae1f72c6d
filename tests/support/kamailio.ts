import { spawn } from 'node:child_process'
import { globSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import app from '@adonisjs/core/services/app'
import { requireTool } from '#tests/support/sipp_runner'
import { isBound } from '#tests/support/sip_peers'

/**
 * Kamailio (Debian package kamailio and its module packages) run by a test with the SHIPPED
 * configuration, deploy/kamailio/kamailio.cfg: the test changes only its defines (-A NAME=VALUE),
 * as an operator may. Foreground (-DD), logging to a file, its own runtime folder; stop() ends
 * exactly that process.
 */

export const KAMAILIO_CONFIG = 'deploy/kamailio/kamailio.cfg'

/** The module packages the shipped configuration loads, by a module file of each. */
const MODULE_PACKAGES: Record<string, string> = {
  'websocket.so': 'kamailio-websocket-modules',
  'tls.so': 'kamailio-tls-modules',
  'ndb_redis.so': 'kamailio-redis-modules',
  'dispatcher.so': 'kamailio',
}

export function requireKamailio() {
  requireTool('kamailio', 'kamailio')
  for (const [module, debianPackage] of Object.entries(MODULE_PACKAGES)) {
    if (globSync(`/usr/lib/*/kamailio/modules/${module}`).length === 0) {
      throw new Error(
        `Kamailio's ${module} not found: install it with "apt-get install ${debianPackage}"`
      )
    }
  }
}

export interface KamailioProcess {
  log(): string
  /** Files written for the defines (dispatcher list, carrier addresses) live here. */
  directory: string
  stop(): Promise<void>
}

export interface KamailioOptions {
  /** Defines: a string value is passed quoted (a cfg string), a number or true as is. */
  defines: Record<string, string | number | true>
  /** Files written into the scratch folder first; `{dir}` in a define's value names that folder. */
  files?: Record<string, string>
  /** Ready once this UDP port is bound. */
  udpPort: number
}

function defineArgs(defines: KamailioOptions['defines'], directory: string): string[] {
  return Object.entries(defines).flatMap(([name, value]) => {
    if (value === true) return ['-A', name]
    if (typeof value === 'number') return ['-A', `${name}=${value}`]
    return ['-A', `${name}="${value.replaceAll('{dir}', directory)}"`]
  })
}

/** `kamailio -c` on the shipped file with these defines: the config check an operator runs. */
export async function checkKamailioConfig(options: Omit<KamailioOptions, 'udpPort'>) {
  requireKamailio()
  const directory = mkdtempSync(join(tmpdir(), 'fluffycall-kamailio-check-'))
  try {
    for (const [name, content] of Object.entries(options.files ?? {}))
      writeFileSync(join(directory, name), content.replaceAll('{dir}', directory))
    const child = spawn('kamailio', [
      '-c',
      '-f',
      app.makePath(KAMAILIO_CONFIG),
      ...defineArgs(options.defines, directory),
    ])
    let output = ''
    child.stdout.on('data', (chunk) => (output += chunk))
    child.stderr.on('data', (chunk) => (output += chunk))
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve))
    return { code, output }
  } finally {
    rmSync(directory, { recursive: true, force: true })
  }
}

export async function startKamailio(options: KamailioOptions): Promise<KamailioProcess> {
  requireKamailio()
  if (isBound('udp', options.udpPort)) {
    throw new Error(`UDP ${options.udpPort} is taken: another Kamailio (or test) runs there`)
  }
  const directory = mkdtempSync(join(tmpdir(), 'fluffycall-kamailio-'))
  for (const [name, content] of Object.entries(options.files ?? {}))
    writeFileSync(join(directory, name), content.replaceAll('{dir}', directory))
  const child = spawn(
    'kamailio',
    [
      '-f',
      app.makePath(KAMAILIO_CONFIG),
      '-DD',
      '-E',
      '-Y',
      directory,
      '-P',
      join(directory, 'kamailio.pid'),
      '-m',
      '64',
      '-M',
      '8',
      ...defineArgs(options.defines, directory),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] }
  )
  let log = ''
  const keep = (chunk: Buffer) => (log = (log + chunk.toString()).slice(-200_000))
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      const killer = setTimeout(() => child.kill('SIGKILL'), 3000)
      await exited
      clearTimeout(killer)
    }
    rmSync(directory, { recursive: true, force: true })
  }
  const deadline = Date.now() + 15_000
  while (!isBound('udp', options.udpPort)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop()
      throw new Error(`Kamailio did not start: ${log.slice(-3000)}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return { log: () => log, directory, stop }
}
