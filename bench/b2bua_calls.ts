/*
 * Call setups through the whole B2BUA path (issue 17): the real server process (bin/server.ts)
 * on a database of its own, sipp phones with digest credentials, each its own device and user,
 * each from its own loopback address (127.0.0.2, .3, ...: the production per-source flood limit
 * stays on), calling a number routed to a sipp carrier on 127.0.0.1: INVITE, 401, INVITE with
 * credentials, the call gates (company, DPA, fraud), routing, the CDR, the carrier INVITE, 200,
 * ACK, a short call (--pause-ms), the phone's BYE, 200. The phones send no RTP: signalling only.
 *
 * Per offered rate, --runs runs of --calls calls spread over the phones; per run: calls sipp
 * counts successful and failed, completed calls per second of wall time, the server's CPU time
 * (process.cpuUsage, user + system, read over IPC by bench/support/server_probe.ts) per completed
 * call, and the server's event-loop delay p99. Prints medians as JSON. sipp runs on the same
 * machine and competes for the CPU; CPU per call is the figure to compare over time.
 *
 *   node --import @poppinss/ts-exec bench/b2bua_calls.ts --db sqlite|pg [--rates 50,100]
 *     [--calls 600] [--phones 4] [--runs 3] [--pause-ms 1000] [--cpu-prof DIR]
 *     [--heap-prof DIR] [--heap-prof-live]
 *     [--warmup-calls 100] [--warmup-rate <lowest of --rates>] [--run-seconds S]
 *     [--server ts|build|ts,build,...] [--reuse-build] [--media-workers 0] [--kind sip|web]
 *     [--unpriced] [--node-flags "--max-semi-space-size=32 ..."]
 *
 * The calls are rated as production's are: the demo's standard price list (German fixed network,
 * 0.89 ct per minute) covers the called number, so every ended call is priced in its CDR's end write and
 * its cost counted into the company's spend (the `billing:call_rated` listener). Up to the eighth
 * round of bench/README.md no price list was seeded: every call ended unpriced, logging a warning
 * and skipping the spend count. --unpriced measures that path again, for comparisons with them.
 *
 * --kind web: the phones are web phones instead of sipp (bench/support/web_phones.ts): sip.js
 * over the server's SIP WebSocket with a werift peer connection as the browser's media, so each
 * call also sets up the WebRTC leg (ICE, DTLS handshake, SRTP keys); the browser sends no audio,
 * as the sipp phones send no RTP. A call counts once the peer connection is connected. The phones
 * run in the bench process (their CPU is not the server's), all from 127.0.0.1.
 *
 * --server: how the server runs. `ts` (the default): bin/server.ts from TypeScript through
 * @poppinss/ts-exec with NODE_ENV=test, as the tests run it. `build`: the production build
 * (`node ace build`, then `node bin/server.js` in build/ with NODE_ENV=production; see
 * bench/support/production_build.ts for the loopback carrier it is given). A comma list runs one
 * server after the other in that order, each with a company and phones of its own on the same
 * database (so `ts,build,ts,build` alternates them under the same machine load), and prints the
 * ratio of their medians. --reuse-build skips `node ace build` when build/ holds a bench build.
 * --media-workers (default 0, media in the server process, as in the tests): MEDIA_WORKERS for
 * every server; workers' CPU time is counted with the server's.
 *
 * Node and V8 options for the server process: --node-flags "<options>" for every server, and per
 * server in brackets after its kind, space-separated: `--server
 * "ts,ts[--single-threaded-gc],ts,ts[--single-threaded-gc]"` alternates the plain and the flagged
 * server under the same machine load (both from TypeScript; `build[...]` likewise). A bracketed
 * `NAME=value` is the server's environment instead: `ts,ts[MEDIA_PACKET_PATH=typescript]`. Runs are
 * grouped by the entry as written, and the JSON ends with each entry's median and its ratio to the
 * first entry's. Each run also reports the server's CPU per call by thread (`main`, `V8Worker`:
 * V8's garbage collection helpers and compiler, ...), its garbage collections per call by kind
 * with their pause time, its memory at the run's end (RSS, V8 heap, the young generation), the
 * bytes it allocated in V8's young generation per call (`youngKbPerCallRuns`), and the machine's
 * load average at the run's start. --heap-prof DIR: the server writes V8's sampling heap profile
 * (collected objects included) of each warm-up, idle window and run into DIR
 * (`server-<pid>-<n>.heapprofile`, bench/support/server_probe.ts); it doubles the CPU per call.
 * --heap-prof-live: the same profiles without the collected objects, i.e. what each window
 * allocated and still holds at its end (what the scavenger copied into the old generation).
 *
 * Before the measured runs, each server gets a warm-up run (JIT, caches, pools; not reported) of
 * --warmup-calls calls (default 100, or --calls if fewer: what every round up to the eleventh
 * used) at --warmup-rate calls/s (default the lowest of --rates). 100 calls leave V8's compiler
 * busy (eleventh round of bench/README.md); 1,000-1,500 at a higher rate reach the steady state.
 * --run-seconds S: each run offers rate x S calls instead of --calls, so runs at every rate of a
 * sweep last alike (a fixed --calls makes the high rates' runs short and the low rates' long).
 *
 * --db pg also sets REDIS_HOST=127.0.0.1 (PostgreSQL + Redis, the production shape; both must
 * answer on 127.0.0.1, see bin/services); the database is fluffycall_bench (PG_BENCH_DB_NAME),
 * Redis keys carry the prefix fluffycall-bench: (REDIS_BENCH_PREFIX) so a test run beside it is
 * not disturbed. SQLite: tmp/bench-b2bua.sqlite3. Either is migrated fresh at the start.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { closeSync, mkdirSync, openSync, rmSync } from 'node:fs'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import 'reflect-metadata'
import { Ignitor } from '@adonisjs/core'
import { BENCH_CARRIER_NAME, productionBuild } from './support/production_build.ts'
import { option } from './support/options.ts'

const DB = option('db', 'sqlite')
if (DB !== 'sqlite' && DB !== 'pg') throw new Error('--db is sqlite or pg')
const RATES = option('rates', '50,100').split(',').map(Number)
const CALLS = Number(option('calls', '600'))
const PHONES = Number(option('phones', '4'))
const RUNS = Number(option('runs', '3'))
const PAUSE_MS = Number(option('pause-ms', '1000'))
const CPU_PROFILE_DIR = option('cpu-prof', '')
/** Directory for the server's sampling heap profiles, one per run (bench/support/server_probe.ts). */
const HEAP_PROFILE_DIR = option('heap-prof', '')
const HEAP_PROFILE_LIVE = process.argv.includes('--heap-prof-live')
const RUN_SECONDS = Number(option('run-seconds', '0'))
const callsAt = (rate: number) => (RUN_SECONDS > 0 ? Math.ceil(rate * RUN_SECONDS) : CALLS)
const WARMUP_CALLS = Number(option('warmup-calls', String(Math.min(100, CALLS))))
const WARMUP_RATE = Number(option('warmup-rate', String(Math.min(...RATES))))
/** Node options for every server (`--node-flags "--max-semi-space-size=32"`), before its own. */
const NODE_FLAGS = option('node-flags', '').split(' ').filter(Boolean)
type ServerKind = 'ts' | 'build'
/**
 * A server of --server: its kind and Node options of its own (`ts[--single-threaded-gc]`); the
 * label (the entry as written) groups its runs with those of the same entry.
 */
interface ServerSpec {
  kind: ServerKind
  flags: string[]
  /** `NAME=value` entries in the brackets: the server's environment (`ts[MEDIA_PACKET_PATH=typescript]`). */
  env: Record<string, string>
  label: string
}
const SERVERS: ServerSpec[] = option('server', 'ts')
  .split(',')
  .map((entry) => {
    const match = /^(ts|build)(?:\[([^\]]*)\])?$/.exec(entry.trim())
    if (!match)
      throw new Error(
        '--server is a comma list of ts or build, each optionally with Node options in brackets'
      )
    const words = (match[2] ?? '').split(' ').filter(Boolean)
    const isEnv = (word: string) => /^[A-Z][A-Z0-9_]*=/.test(word)
    const flags = words.filter((word) => !isEnv(word))
    const env = Object.fromEntries(
      words.filter(isEnv).map((word) => {
        const at = word.indexOf('=')
        return [word.slice(0, at), word.slice(at + 1)]
      })
    )
    return { kind: match[1] as ServerKind, flags, env, label: entry.trim() }
  })
const LABELS = [...new Set(SERVERS.map((spec) => spec.label))]
const MEDIA_WORKERS = option('media-workers', '0')
const KIND = option('kind', 'sip')
const UNPRICED = process.argv.includes('--unpriced')
if (KIND !== 'sip' && KIND !== 'web') throw new Error('--kind is sip or web')
const CALLEE = '+4930555000'

const ROOT = fileURLToPath(new URL('../', import.meta.url))
const PG_DB_NAME = process.env.PG_BENCH_DB_NAME ?? 'fluffycall_bench'
const REDIS_PREFIX = process.env.REDIS_BENCH_PREFIX ?? 'fluffycall-bench:'

// The bench process (seeding, counting CDRs) and the server share these settings.
Object.assign(
  process.env,
  {
    // The test environment logs JSON lines to a file (tmp/logs/test-<pid>.log), as production
    // does to stdout; development's pretty printer costs far more per line. Otherwise the call
    // path is production's (flood limits on, the fraud gate, rating); only the automatic carrier
    // health checks are off.
    NODE_ENV: 'test',
    TZ: 'UTC',
    DB_CONNECTION: DB,
    LOG_LEVEL: 'info',
    NO_COLOR: '1',
  },
  DB === 'sqlite'
    ? { SQLITE_FILE: `${ROOT}tmp/bench-b2bua.sqlite3`, REDIS_HOST: '' }
    : {
        PG_DB_NAME,
        REDIS_HOST: '127.0.0.1',
        REDIS_PREFIX: REDIS_PREFIX,
      }
)

function run(command: string, args: string[]) {
  const result = spawnSync(command, args, { cwd: ROOT, env: process.env, encoding: 'utf8' })
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(' ')} failed:\n${result.stdout}\n${result.stderr}`)
}

// A fresh database: migrations and the roles (01_rbac_seeder).
if (DB === 'sqlite') {
  mkdirSync(`${ROOT}tmp`, { recursive: true })
  for (const suffix of ['', '-wal', '-shm', '-journal'])
    rmSync(`${process.env.SQLITE_FILE}${suffix}`, { force: true })
} else {
  const psql = ['-h', '127.0.0.1', '-U', process.env.PG_USER ?? 'postgres', '-d', 'postgres']
  run('psql', [...psql, '-qc', `drop database if exists ${PG_DB_NAME}`])
  run('psql', [...psql, '-qc', `create database ${PG_DB_NAME}`])
  run('redis-cli', [
    '-h',
    '127.0.0.1',
    'eval',
    "for _,k in ipairs(redis.call('keys', ARGV[1])) do redis.call('del', k) end",
    '0',
    `${REDIS_PREFIX}*`,
  ])
}
run(process.execPath, ['ace', 'migration:run', '--force'])
run(process.execPath, ['ace', 'db:seed', '--files', 'database/seeders/01_rbac_seeder.ts'])

const app = new Ignitor(new URL('../', import.meta.url), {
  importer: (filePath: string) =>
    filePath.startsWith('./') || filePath.startsWith('../')
      ? import(new URL(filePath, new URL('../', import.meta.url)).href)
      : import(filePath),
}).createApp('console')
app.booting(async () => {
  await import('#start/env')
})
await app.init()
await app.boot()

const { DateTime } = await import('luxon')
const { default: SipDeviceService } = await import('#calls/services/sip_device_service')
const { configuredRealm } = await import('#calls/signalling/registrar_settings')
const { default: CarrierRoute } = await import('#calls/models/carrier_route')
const { default: CarrierState } = await import('#calls/models/carrier_state')
const { default: CallRecord } = await import('#calls/models/call_record')
const { default: FraudCompanyPolicy } = await import('#fraud/models/fraud_company_policy')
const { seedStandardPriceList } = await import('#database/seeders/02_demo_seeder')
const { makeCompany, makeUser } = await import('#tests/support/accounts')
const { freePort, isBound, startSipp } = await import('#tests/support/sip_peers')
const { serverReady } = await import('#tests/support/server_process')
const { WebPhones } = await import('./support/web_phones.ts')

const { default: Env } = await import('#start/env')

// The production build first (it takes a minute or two), before any server runs.
const BUILD_DIR = SERVERS.some((spec) => spec.kind === 'build')
  ? productionBuild(ROOT, process.argv.includes('--reuse-build'))
  : null

type Phone = { username: string; password: string; ip: string }

/**
 * One company, PHONES users with a desk phone each; limits far above what the bench offers. A
 * company per server, so each server's fraud windows and kept lookups start alike.
 */
async function seedPhones(): Promise<Phone[]> {
  const company = await makeCompany('active')
  const wide = { concurrent: 100_000, perMinute: 1_000_000, perHour: 1_000_000, perDay: 1_000_000 }
  await FraudCompanyPolicy.create({
    companyId: company.id,
    allowedCountries: ['DE'],
    enabledRiskClasses: [],
    outboundSuspension: 'none',
    limits: { company: wide, user: wide, device: wide, callsToOneNumberPerHour: 1_000_000 },
  })
  const phones: Phone[] = []
  for (let index = 0; index < PHONES; index++) {
    const user = await makeUser('member', company)
    const { device, password } = await new SipDeviceService().create(user, `Bench phone ${index}`)
    phones.push({ username: device.sipUsername, password, ip: `127.0.0.${index + 2}` })
  }
  return phones
}

// The loopback carrier: `local` for the TypeScript server (test environment), the bench's generic
// trunk for the production build (which has no `local`). Each server finds its own carrier active
// and the other one unconfigured, so the route resolves to its own.
for (const carrierName of ['local', ...(BUILD_DIR ? [BENCH_CARRIER_NAME] : [])]) {
  await CarrierState.create({
    carrierName,
    enabled: true,
    lifecycle: 'active',
    activatedAt: DateTime.utc(),
  })
  await CarrierRoute.create({ region: 'eu', prefix: '', carrierName, priority: 1, weight: 100 })
}

// The standard price list (the demo seeder's): every call to CALLEE is priced.
if (!UNPRICED) await seedStandardPriceList()

const carrier = await startSipp({
  scenario: 'carrier_answer_echo.xml',
  transport: 'u1',
  calls: 1_000_000_000,
  timeoutSeconds: 3600,
  // -aa: the server's OPTIONS health checks are answered 200 outside the scenario.
  extraArgs: ['-aa'],
})

interface Probe {
  cpuMicros: number
  /** Of cpuMicros, the kernel's (system time: sockets, timers, memory). */
  systemCpuMicros: number
  childrenCpuMicros: number
  loopDelayP99Ms: number
  loopDelayMaxMs: number
  statements: Array<{ sql: string; count: number; micros: number; rows: number }>
  collections: Record<string, { count: number; ms: number }>
  threadCpuMicros: Record<string, number>
  memory: { rssMb: number; heapTotalMb: number; heapUsedMb: number; newSpaceMb: number }
  youngAllocatedBytes: number
}

interface Server {
  kind: ServerKind
  process: ChildProcess
  sipPort: number
  /** The SIP WebSocket, and the Origin of the app's pages (the server allows no other). */
  webSocketUrl: string
  origin: string
  probe(message: 'reset' | 'read'): Promise<Probe>
  stop(): Promise<void>
}

async function startServer(spec: ServerSpec, index: number): Promise<Server> {
  const kind = spec.kind
  const sipPort = await freePort('udp')
  const httpPort = await freePort('tcp')
  const profile = CPU_PROFILE_DIR ? ['--cpu-prof', '--cpu-prof-dir', CPU_PROFILE_DIR] : []
  const common = {
    PORT: String(httpPort),
    SIP_TRANSPORTS: KIND === 'web' ? 'udp,ws' : 'udp',
    SIP_UDP_PORT: String(sipPort),
    LOCAL_CARRIER_PORT: String(carrier.port),
    NODE_ID: 'bench-node',
    MEDIA_WORKERS: MEDIA_WORKERS,
    ...(HEAP_PROFILE_DIR ? { BENCH_HEAP_PROF: HEAP_PROFILE_DIR } : {}),
    ...(HEAP_PROFILE_LIVE ? { BENCH_HEAP_PROF_LIVE: '1' } : {}),
  }
  // The production server reads no .env (build/ has none): what it needs comes from here. Its
  // realm is APP_URL's host, which must be the one the phones' credentials were made for.
  const production = {
    NODE_ENV: 'production',
    APP_KEY: Env.get('APP_KEY').release(),
    HOST: '127.0.0.1',
    APP_URL: `https://${configuredRealm()}:${httpPort}`,
    HOSTING_METADATA_CONFIRMED: 'true',
    MAIL_MAILER: 'file',
    MEDIA_RTP_PORTS: Env.get('MEDIA_RTP_PORTS') ?? '',
    MEDIA_WEBRTC_PORTS: Env.get('MEDIA_WEBRTC_PORTS') ?? '',
    MEDIA_ANNOUNCED_IPS: '127.0.0.1',
    PG_HOST: Env.get('PG_HOST') ?? '127.0.0.1',
    PG_USER: Env.get('PG_USER') ?? 'postgres',
    PG_PASSWORD: Env.get('PG_PASSWORD') ?? '',
    BENCH_CARRIER_PORT: String(carrier.port),
  }
  // Production logs JSON lines to stdout: kept in a file, as the test environment keeps its own
  // (tmp/logs/test-<pid>.log). The TypeScript server's stdout goes there too: what V8 prints
  // for --node-flags such as --trace-gc-nvp.
  const logFile = `${ROOT}tmp/bench-b2bua-${kind}-${index}.log`
  const log = openSync(logFile, 'w')
  const child = spawn(
    process.execPath,
    kind === 'ts'
      ? [
          ...NODE_FLAGS,
          ...spec.flags,
          ...profile,
          '--import',
          '@poppinss/ts-exec',
          '--import',
          './bench/support/server_probe.ts',
          'bin/server.ts',
        ]
      : [
          ...NODE_FLAGS,
          ...spec.flags,
          ...profile,
          '--import',
          './bench/support/server_probe.js',
          'bin/server.js',
        ],
    {
      cwd: kind === 'ts' ? ROOT : BUILD_DIR!,
      env: { ...process.env, ...common, ...(kind === 'build' ? production : {}), ...spec.env },
      stdio: ['ignore', log, 'pipe', 'ipc'],
    }
  )
  closeSync(log)
  let serverErrors = ''
  child.stderr!.on('data', (chunk) => (serverErrors = (serverErrors + chunk).slice(-5000)))
  const deadline = Date.now() + 60_000
  while (!isBound('udp', sipPort) || !(await serverReady(String(httpPort)))) {
    if (child.exitCode !== null)
      throw new Error(`the ${kind} server exited: ${serverErrors} (log: ${logFile})`)
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`the ${kind} server was not ready in 60 s: ${serverErrors}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  return {
    kind,
    process: child,
    sipPort,
    webSocketUrl: `ws://127.0.0.1:${httpPort}/sip`,
    origin: new URL(kind === 'build' ? production.APP_URL : Env.get('APP_URL')).origin,
    /** The server's own messages (AdonisJS tells a parent when it is ready) are not the probe's. */
    probe: (message) =>
      new Promise((resolve) => {
        const answered = (answer: any) => {
          if (!answer?.benchProbe) return
          child.off('message', answered)
          resolve(answer as Probe)
        }
        child.on('message', answered)
        child.send(`bench:${message}`)
      }),
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      await exited
    },
  }
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

interface RunResult {
  offered: number
  /** The machine's 1-minute load average when the run started. */
  loadAtStart: number
  successful: number
  failed: number
  completedPerSecond: number
  cpuMsPerCall: number
  /** Of cpuMsPerCall, the server process's system time (the kernel's work for its calls). */
  systemCpuMsPerCall: number
  loopDelayP99Ms: number
  loopDelayMaxMs: number
  cdrs: number
  /** CDRs of the run that were refused (a 503 "No carrier available" shows here). */
  refused: number
  /** CDRs of the run with a price (rating 'priced'): all answered calls unless --unpriced. */
  priced: number
  /** CPU per call by thread name (`main`, `V8Worker`, ...; the children's not included). */
  threadCpuMsPerCall: Record<string, number>
  /** Garbage collections per call by kind, and their pause time per call (main thread). */
  gcPerCall: Record<string, number>
  gcPauseMsPerCall: number
  /** The server's memory at the run's end. */
  memory: Probe['memory']
  /** Bytes allocated in V8's young generation per completed call (the run and its 1 s tail). */
  youngKbPerCall: number
}

const cpuOf = (probe: Probe) => probe.cpuMicros + probe.childrenCpuMicros

/** The calls of a run from sipp phones, one sipp per phone at its share of the rate. */
async function sippCalls(server: Server, phones: Phone[], rate: number, calls: number) {
  const perPhone = Math.ceil(calls / phones.length)
  const phoneRate = rate / phones.length
  const sipps = await Promise.all(
    phones.map((phone) =>
      startSipp({
        scenario: '../../../bench/sipp/phone_call_out.xml',
        transport: 'u1',
        target: `127.0.0.1:${server.sipPort}`,
        localIp: phone.ip,
        calls: perPhone,
        timeoutSeconds: Math.ceil(perPhone / phoneRate) + 60,
        traceStats: true,
        keys: { domain: configuredRealm(), callee: CALLEE },
        extraArgs: [
          '-auth_uri',
          `${CALLEE}@127.0.0.1:${server.sipPort}`,
          '-d',
          String(PAUSE_MS),
          '-s',
          phone.username,
          '-au',
          phone.username,
          '-ap',
          phone.password,
          '-r',
          String(phoneRate),
          '-l',
          String(Math.ceil(phoneRate * (PAUSE_MS / 1000 + 2)) + 10),
        ],
      })
    )
  )
  const outcomes = await Promise.all(sipps.map((sipp) => sipp.done))
  let successful = 0
  let failed = 0
  for (const [index, sipp] of sipps.entries()) {
    const stats = sipp.statistics()
    successful += Number(stats['SuccessfulCall(C)'] ?? 0)
    failed += Number(stats['FailedCall(C)'] ?? 0)
    if (outcomes[index].code !== 0 && failed === 0) failed += 1
    sipp.stop()
  }
  return { successful, failed, errors: [] as string[] }
}

async function measure(
  server: Server,
  phones: Phone[] | Awaited<ReturnType<typeof WebPhones.start>>,
  rate: number,
  calls: number
): Promise<RunResult> {
  const firstId = (await CallRecord.query().orderBy('id', 'desc').first())?.id ?? 0
  const loadAtStart = Math.round(loadavg()[0] * 100) / 100
  const before = await server.probe('reset')
  const started = performance.now()
  const outcome = Array.isArray(phones)
    ? await sippCalls(server, phones, rate, calls)
    : await phones.run(calls, rate, PAUSE_MS)
  const { successful, failed } = outcome
  if (outcome.errors.length) console.error(JSON.stringify({ failures: outcome.errors }))
  const seconds = (performance.now() - started) / 1000
  // The CDR's close and the call:ended listeners trail the phone's last 200 by a little.
  await new Promise((resolve) => setTimeout(resolve, 1000))
  const after = await server.probe('read')
  if (process.env.BENCH_SQL_STATS)
    console.error(
      JSON.stringify(
        after.statements.slice(0, 80).map((entry) => ({
          ...entry,
          perCall: Math.round((entry.count / Math.max(1, successful)) * 100) / 100,
        })),
        null,
        1
      )
    )
  const cdrs = await CallRecord.query()
    .where('id', '>', firstId)
    .whereNotNull('ended_at')
    .count('* as total')
  const refused = await CallRecord.query()
    .where('id', '>', firstId)
    .where('disconnect_cause', 'refused')
    .count('* as total')
  const priced = await CallRecord.query()
    .where('id', '>', firstId)
    .where('rating', 'priced')
    .count('* as total')
  const perCall = (value: number) => Math.round((value / Math.max(1, successful)) * 1000) / 1000
  const threadCpuMsPerCall: Record<string, number> = {}
  for (const [name, micros] of Object.entries(after.threadCpuMicros))
    threadCpuMsPerCall[name] = perCall((micros - (before.threadCpuMicros[name] ?? 0)) / 1000)
  const gcPerCall: Record<string, number> = {}
  for (const [kind, total] of Object.entries(after.collections))
    gcPerCall[kind] = perCall(total.count)
  return {
    offered: rate,
    loadAtStart,
    successful,
    failed,
    completedPerSecond: Math.round((successful / seconds) * 10) / 10,
    cpuMsPerCall:
      Math.round(((cpuOf(after) - cpuOf(before)) / 1000 / Math.max(1, successful)) * 100) / 100,
    systemCpuMsPerCall: perCall((after.systemCpuMicros - before.systemCpuMicros) / 1000),
    loopDelayP99Ms: Math.round(after.loopDelayP99Ms * 10) / 10,
    loopDelayMaxMs: Math.round(after.loopDelayMaxMs * 10) / 10,
    cdrs: Number(cdrs[0].$extras.total),
    refused: Number(refused[0].$extras.total),
    priced: Number(priced[0].$extras.total),
    threadCpuMsPerCall,
    gcPerCall,
    gcPauseMsPerCall: perCall(
      Object.values(after.collections).reduce((sum, total) => sum + total.ms, 0)
    ),
    memory: after.memory,
    youngKbPerCall: Math.round(after.youngAllocatedBytes / 1024 / Math.max(1, successful)),
  }
}

// Whatever fails from here on, the carrier's sipp is stopped (it would run for an hour).
process.once('exit', () => carrier.stop())

const servers = []
const runsByLabel: Record<string, Record<number, RunResult[]>> = {}
for (const [serverIndex, spec] of SERVERS.entries()) {
  const kind = spec.kind
  const devices = await seedPhones()
  const server = await startServer(spec, serverIndex)
  const phones =
    KIND === 'web'
      ? await WebPhones.start({
          url: server.webSocketUrl,
          origin: server.origin,
          realm: configuredRealm(),
          callee: CALLEE,
          accounts: devices,
        })
      : devices
  try {
    // Warm-up (JIT, caches, pools); not reported.
    const warmUp = await measure(server, phones, WARMUP_RATE, WARMUP_CALLS)
    console.error(JSON.stringify({ server: spec.label, warmUp }))
    if (warmUp.successful === 0)
      throw new Error(
        `the ${kind} server completed no call in the warm-up: ${JSON.stringify(warmUp)}`
      )

    // What the server costs with no call at all (timers, health checks, monitoring): part of
    // every run's CPU, a larger share of it at lower rates.
    const idleBefore = await server.probe('reset')
    await new Promise((resolve) => setTimeout(resolve, 10_000))
    const idleAfter = await server.probe('read')
    const idleCpuMsPerSecond = Math.round((cpuOf(idleAfter) - cpuOf(idleBefore)) / 10_000)

    const results = []
    for (const rate of RATES) {
      const runs: RunResult[] = []
      for (let index = 0; index < RUNS; index++) {
        runs.push(await measure(server, phones, rate, callsAt(rate)))
        console.error(JSON.stringify({ server: spec.label, ...runs.at(-1) }))
      }
      ;((runsByLabel[spec.label] ??= {})[rate] ??= []).push(...runs)
      results.push({
        offeredPerSecond: rate,
        successfulMedian: median(runs.map((entry) => entry.successful)),
        failedTotal: runs.reduce((sum, entry) => sum + entry.failed, 0),
        completedPerSecondMedian: median(runs.map((entry) => entry.completedPerSecond)),
        cpuMsPerCallMedian: median(runs.map((entry) => entry.cpuMsPerCall)),
        cpuMsPerCallRuns: runs.map((entry) => entry.cpuMsPerCall),
        systemCpuMsPerCallRuns: runs.map((entry) => entry.systemCpuMsPerCall),
        loopDelayP99MsMedian: median(runs.map((entry) => entry.loopDelayP99Ms)),
        loadAtStartRuns: runs.map((entry) => entry.loadAtStart),
        cdrsPerRun: runs.map((entry) => entry.cdrs),
        refusedPerRun: runs.map((entry) => entry.refused),
        pricedPerRun: runs.map((entry) => entry.priced),
        threadCpuMsPerCallRuns: runs.map((entry) => entry.threadCpuMsPerCall),
        gcPerCallRuns: runs.map((entry) => entry.gcPerCall),
        gcPauseMsPerCallRuns: runs.map((entry) => entry.gcPauseMsPerCall),
        youngKbPerCallRuns: runs.map((entry) => entry.youngKbPerCall),
        memoryAfterRuns: runs.map((entry) => entry.memory),
      })
    }
    servers.push({
      server: kind === 'ts' ? 'TypeScript (ts-exec), NODE_ENV=test' : 'build/, NODE_ENV=production',
      label: spec.label,
      nodeFlags: [...NODE_FLAGS, ...spec.flags],
      env: spec.env,
      idleCpuMsPerSecond,
      results,
    })
  } finally {
    if (!Array.isArray(phones)) await phones.stop()
    await server.stop()
  }
}

// More than one kind of server (by its --server entry): the medians over all runs of each per
// rate, and each one's ratio to the first entry's.
const comparison =
  LABELS.length > 1
    ? RATES.map((rate) => {
        const medians = Object.fromEntries(
          LABELS.map((label) => [
            label,
            median(runsByLabel[label][rate].map((entry) => entry.cpuMsPerCall)),
          ])
        )
        return {
          offeredPerSecond: rate,
          cpuMsPerCallMedians: medians,
          ratioToFirst: Object.fromEntries(
            LABELS.slice(1).map((label) => [
              label,
              Math.round((medians[label] / medians[LABELS[0]]) * 100) / 100,
            ])
          ),
        }
      })
    : undefined

console.log(
  JSON.stringify(
    {
      bench:
        KIND === 'web'
          ? 'web phone call setups through the B2BUA: sip.js over WebSocket with werift media (ICE, DTLS-SRTP) -> server -> sipp carrier, BYE'
          : 'call setups through the B2BUA: sipp phones (digest) -> server -> sipp carrier, BYE',
      database: DB === 'sqlite' ? 'SQLite' : 'PostgreSQL + Redis',
      phones: PHONES,
      callsPerRun: RUN_SECONDS > 0 ? `offered rate x ${RUN_SECONDS} s` : CALLS,
      runs: RUNS,
      warmUp: { calls: WARMUP_CALLS, perSecond: WARMUP_RATE },
      pauseMs: PAUSE_MS,
      priced: !UNPRICED,
      mediaWorkers: Number(MEDIA_WORKERS),
      node: process.version,
      servers,
      comparison,
    },
    null,
    2
  )
)

carrier.stop()
await app.terminate()
