import { spawn } from 'node:child_process'
import { mkdir, readdir, rename, rm, stat, chmod } from 'node:fs/promises'
import { join } from 'node:path'

/** Where pg_dump and pg_restore connect (the `pg` connection of config/database.ts). */
export interface PgTarget {
  host: string
  port: number
  user: string
  password?: string
  database: string
}

export interface DatabaseBackupOptions {
  dir: string
  keepDays: number
  now?: () => Date
  /** Longest run of pg_dump before it is killed (an hour unless set). */
  toolLimitMs?: number
}

export interface BackupFile {
  file: string
  takenAt: Date
  bytes: number
}

export class BackupFailed extends Error {}

const NAME = /^fluffycall-([a-z0-9_-]+)-(\d{8}T\d{6}Z)\.dump$/i
const DAY_MS = 24 * 60 * 60 * 1000

/** 20261201T103500Z, sortable and safe in file names. */
function stamp(date: Date) {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z')
}

function parseStamp(value: string) {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value)
  return match
    ? new Date(Date.UTC(+match[1], +match[2] - 1, +match[3], +match[4], +match[5], +match[6]))
    : null
}

/**
 * How long a dump may wait for a table lock (a migration or a TRUNCATE holding one) before it
 * gives up with an error instead of waiting for ever; the next hourly check tries again.
 */
export const LOCK_WAIT_TIMEOUT = '60s'

/** A run of pg_dump or pg_restore that takes longer than this is killed and reported. */
export const DEFAULT_TOOL_LIMIT_MS = 60 * 60 * 1000

/**
 * Runs a PostgreSQL client tool with the password in its environment (never on the command line),
 * killed after `limitMs` so a hung tool ends as a failure the job reports.
 */
function runTool(
  command: string,
  args: string[],
  target: PgTarget,
  limitMs = DEFAULT_TOOL_LIMIT_MS
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: { ...process.env, PGPASSWORD: target.password ?? '', PGCONNECT_TIMEOUT: '10' },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let stderr = ''
    let killed = false
    const limit = setTimeout(() => {
      killed = true
      child.kill('SIGKILL')
    }, limitMs)
    child.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-2000)))
    child.once('error', (error) => {
      clearTimeout(limit)
      reject(new BackupFailed(`${command} could not run: ${error.message}`))
    })
    child.once('exit', (code) => {
      clearTimeout(limit)
      if (killed) {
        reject(new BackupFailed(`${command} did not finish within ${limitMs} ms: ${stderr.trim()}`))
      } else if (code === 0) {
        resolve()
      } else {
        reject(new BackupFailed(`${command} exited ${code}: ${stderr.trim()}`))
      }
    })
  })
}

const connectionArgs = (target: PgTarget) => [
  '--host',
  target.host,
  '--port',
  String(target.port),
  '--username',
  target.user,
]

/**
 * pg_dump in PostgreSQL's custom format (compressed, restorable table by table with pg_restore)
 * into one file per run, named by the time it started; written under a temporary name and renamed
 * when complete, so a half-written dump never counts as a backup. Files are 0600: they hold every
 * customer's data (Art. 32 GDPR: the folder belongs on encrypted storage, see the README).
 */
export default class DatabaseBackup {
  readonly #options: DatabaseBackupOptions
  readonly #now: () => Date

  constructor(options: DatabaseBackupOptions) {
    this.#options = options
    this.#now = options.now ?? (() => new Date())
  }

  async run(target: PgTarget): Promise<BackupFile & { deleted: string[] }> {
    await mkdir(this.#options.dir, { recursive: true, mode: 0o700 })
    const takenAt = this.#now()
    const file = join(this.#options.dir, `fluffycall-${target.database}-${stamp(takenAt)}.dump`)
    const partial = `${file}.partial`
    try {
      await runTool(
        'pg_dump',
        [
          ...connectionArgs(target),
          '--format=custom',
          '--no-owner',
          '--no-privileges',
          `--lock-wait-timeout=${LOCK_WAIT_TIMEOUT}`,
          `--file=${partial}`,
          target.database,
        ],
        target,
        this.#options.toolLimitMs
      )
      await chmod(partial, 0o600)
      await rename(partial, file)
    } catch (error) {
      await rm(partial, { force: true })
      throw error
    }
    const { size } = await stat(file)
    return { file, takenAt, bytes: size, deleted: await this.prune() }
  }

  /** Every complete dump in the folder, newest first. */
  async list(): Promise<BackupFile[]> {
    let names: string[]
    try {
      names = await readdir(this.#options.dir)
    } catch {
      return []
    }
    const files: BackupFile[] = []
    for (const name of names) {
      const takenAt = parseStamp(NAME.exec(name)?.[2] ?? '')
      if (!takenAt) continue
      const { size } = await stat(join(this.#options.dir, name))
      files.push({ file: join(this.#options.dir, name), takenAt, bytes: size })
    }
    return files.sort((a, b) => b.takenAt.getTime() - a.takenAt.getTime())
  }

  async latest(): Promise<BackupFile | null> {
    return (await this.list())[0] ?? null
  }

  /** Seconds since the newest dump was taken; null when there is none. */
  async ageSeconds(): Promise<number | null> {
    const latest = await this.latest()
    return latest
      ? Math.max(0, Math.round((this.#now().getTime() - latest.takenAt.getTime()) / 1000))
      : null
  }

  /** Deletes dumps older than keepDays; the newest stays whatever its age (the last good copy). */
  async prune(): Promise<string[]> {
    const [, ...older] = await this.list()
    const cutoff = this.#now().getTime() - this.#options.keepDays * DAY_MS
    const due = older.filter((entry) => entry.takenAt.getTime() < cutoff).map((entry) => entry.file)
    for (const file of due) await rm(file, { force: true })
    return due
  }

  /** Restores a dump into an existing, empty database (the README's restore, and the restore test). */
  static async restore(
    file: string,
    target: PgTarget,
    limitMs = DEFAULT_TOOL_LIMIT_MS
  ): Promise<void> {
    await runTool(
      'pg_restore',
      [
        ...connectionArgs(target),
        '--no-owner',
        '--no-privileges',
        '--exit-on-error',
        `--dbname=${target.database}`,
        file,
      ],
      target,
      limitMs
    )
  }
}
