/*
 * Loaded into the server process by bench/b2bua_calls.ts (`node --import`): answers the bench
 * over the IPC channel with this process's CPU time (process.cpuUsage), its live child processes'
 * (media workers, from /proc: clock ticks of user + system time) and its event-loop delay
 * since the last reset. Nothing of the app imports it; without an IPC channel it does nothing.
 * With BENCH_SQL_STATS=1 it also counts and times the SQLite statements (better-sqlite3's
 * run/get/all, by SQL text): where the synchronous database time goes. On PostgreSQL + Redis
 * it counts instead the statements sent by pg (by SQL text) and the Redis commands sent by
 * ioredis (BullMQ's included), each by name and the first frame of app/ in its stack: what a
 * call costs in round trips and who asks for them.
 *
 * Also since the last reset: the garbage collections (perf_hooks `gc` entries: count and pause
 * time by kind), the CPU of each of the process's threads by name (/proc/self/task: the main
 * thread, V8's workers for garbage collection and compilation, libuv's pool, ...), and at each
 * answer the memory (RSS, V8 heap, the young generation's committed size): what V8's heap and GC
 * flags change (bench/b2bua_calls.ts, `--server ts[flags]`). And the bytes allocated in V8's young
 * generation since the reset (bench/support/gc_window.ts); with BENCH_HEAP_PROF=<dir>, V8's sampling
 * heap profile from each reset to the next read (objects already collected included), written as
 * <dir>/server-<pid>-<n>.heapprofile: where a call's allocations come from.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { monitorEventLoopDelay, PerformanceObserver, constants } from 'node:perf_hooks'
import { getHeapSpaceStatistics } from 'node:v8'
import { gcWindow, startHeapSampling } from './gc_window.ts'

const statements = new Map<string, { count: number; micros: number; rows: number }>()

function countStatements() {
  const Database = createRequire(import.meta.url)('better-sqlite3')
  const prepare = Database.prototype.prepare
  Database.prototype.prepare = function (this: unknown, sql: string, ...rest: unknown[]) {
    const statement = prepare.call(this, sql, ...rest)
    for (const method of ['run', 'get', 'all']) {
      const original = statement[method]
      statement[method] = function (...args: unknown[]) {
        const started = process.hrtime.bigint()
        let result: unknown
        try {
          result = original.apply(statement, args)
          return result
        } finally {
          const entry = statements.get(sql) ?? { count: 0, micros: 0, rows: 0 }
          entry.count += 1
          entry.micros += Number(process.hrtime.bigint() - started) / 1000
          if (method === 'all' && Array.isArray(result)) entry.rows += result.length
          statements.set(sql, entry)
        }
      }
    }
    return statement
  }
}

/** The first stack frame in app/ (or, failing that, in a library) above the caller. */
function caller(): string {
  const lines = (new Error().stack ?? '').split('\n').slice(3)
  const ours = lines.find((line) => line.includes('/app/') && !line.includes('node_modules'))
  const frame = ours ?? lines.find((line) => !line.includes('server_probe')) ?? ''
  return frame
    .trim()
    .replace(/^at /, '')
    .replace(/\(?file:\/\/[^)]*\/(app|node_modules)\//, '$1/')
    .replace(/\)$/, '')
}

function count(key: string) {
  const entry = statements.get(key) ?? { count: 0, micros: 0, rows: 0 }
  entry.count += 1
  statements.set(key, entry)
}

function countRoundTrips() {
  const require = createRequire(import.meta.url)
  const { Client } = require('pg')
  const query = Client.prototype.query
  Client.prototype.query = function (this: unknown, config: unknown, ...rest: unknown[]) {
    const text = typeof config === 'string' ? config : (config as { text?: string })?.text
    if (text) count(`sql ${text.replace(/\s+/g, ' ')}  <- ${caller()}`)
    return query.call(this, config, ...rest)
  }
  const Redis = require('ioredis')
  const sendCommand = Redis.prototype.sendCommand
  Redis.prototype.sendCommand = function (
    this: unknown,
    command: { name: string },
    ...rest: unknown[]
  ) {
    count(`redis ${command.name}  <- ${caller()}`)
    return sendCommand.call(this, command, ...rest)
  }
}

/** CPU time of this process's live children in microseconds (Linux; 0 elsewhere). */
function childrenCpuMicros(): number {
  let ticks = 0
  let entries: string[] = []
  try {
    entries = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))
  } catch {
    return 0
  }
  for (const pid of entries) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      // After the command name in brackets: state, ppid, ... utime (14th field), stime (15th)
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (Number(fields[1]) === process.pid) ticks += Number(fields[11]) + Number(fields[12])
    } catch {
      // gone meanwhile
    }
  }
  // USER_HZ is 100 on Linux
  return ticks * 10_000
}

const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
}
let collections: Record<string, { count: number; ms: number }> = {}

function countCollections() {
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind =
        GC_KINDS[(entry as unknown as { detail: { kind: number } }).detail.kind] ?? 'other'
      const total = (collections[kind] ??= { count: 0, ms: 0 })
      total.count += 1
      total.ms += entry.duration
    }
  }).observe({ entryTypes: ['gc'] })
}

/**
 * CPU time per thread name in microseconds (Linux; empty elsewhere): the main thread as `main`,
 * the others by their name (`V8Worker`, `libuv-worker`, ...), summed over the threads of a name.
 */
function threadCpuMicros(): Record<string, number> {
  const byName: Record<string, number> = {}
  let tasks: string[] = []
  try {
    tasks = readdirSync('/proc/self/task')
  } catch {
    return byName
  }
  for (const tid of tasks) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')
      const name =
        Number(tid) === process.pid
          ? 'main'
          : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      byName[name] = (byName[name] ?? 0) + (Number(fields[11]) + Number(fields[12])) * 10_000
    } catch {
      // gone meanwhile
    }
  }
  return byName
}

function memory() {
  const usage = process.memoryUsage()
  const young = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')
  const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10
  return {
    rssMb: mb(usage.rss),
    heapTotalMb: mb(usage.heapTotal),
    heapUsedMb: mb(usage.heapUsed),
    newSpaceMb: mb(young?.space_size ?? 0),
  }
}

if (process.send) {
  if (process.env.BENCH_SQL_STATS)
    process.env.DB_CONNECTION === 'pg' ? countRoundTrips() : countStatements()
  const delay = monitorEventLoopDelay({ resolution: 10 })
  delay.enable()
  countCollections()
  const heapProfileDir = process.env.BENCH_HEAP_PROF
  let heapProfiles = 0
  let stopHeapSampling: Promise<() => Promise<object>> | null = null
  let young = gcWindow()
  process.on('message', async (message) => {
    if (message !== 'bench:reset' && message !== 'bench:read') return
    // A failure of the counting must not take the server down: the bytes read as -1
    let youngAllocatedBytes = -1
    try {
      youngAllocatedBytes = young().youngAllocatedBytes
    } catch (error) {
      console.error('bench probe: young-generation count failed', error)
    }
    young = gcWindow()
    if (message === 'bench:reset') {
      delay.reset()
      statements.clear()
      collections = {}
      if (heapProfileDir && !stopHeapSampling)
        stopHeapSampling = startHeapSampling(4096, {
          liveOnly: process.env.BENCH_HEAP_PROF_LIVE === '1',
        })
    } else if (stopHeapSampling) {
      const stop = await stopHeapSampling
      stopHeapSampling = null
      mkdirSync(heapProfileDir!, { recursive: true })
      writeFileSync(
        `${heapProfileDir}/server-${process.pid}-${++heapProfiles}.heapprofile`,
        JSON.stringify(await stop())
      )
    }
    const cpu = process.cpuUsage()
    process.send!({
      benchProbe: true,
      cpuMicros: cpu.user + cpu.system,
      systemCpuMicros: cpu.system,
      childrenCpuMicros: childrenCpuMicros(),
      loopDelayP99Ms: delay.percentile(99) / 1e6,
      loopDelayMaxMs: delay.max / 1e6,
      collections,
      threadCpuMicros: threadCpuMicros(),
      memory: memory(),
      youngAllocatedBytes: message === 'bench:read' ? youngAllocatedBytes : 0,
      statements: [...statements.entries()]
        .map(([sql, entry]) => ({
          sql: sql.slice(0, 400),
          ...entry,
          micros: Math.round(entry.micros),
        }))
        .sort((a, b) => b.micros - a.micros || b.count - a.count),
    })
  })
  // The channel must not keep a draining server alive.
  process.channel?.unref()
}
