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
 *
 * --db pg also sets REDIS_HOST=127.0.0.1 (PostgreSQL + Redis, the production shape; both must
 * answer on 127.0.0.1, see bin/services); the database is fluffycall_bench (PG_BENCH_DB_NAME),
 * Redis keys carry the prefix fluffycall-bench: so a test run beside it is not disturbed. SQLite:
 * tmp/bench-b2bua.sqlite3. Either is migrated fresh at the start.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdirSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import 'reflect-metadata'
import { Ignitor } from '@adonisjs/core'

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`)
  return index >= 0 && process.argv[index + 1] ? process.argv[index + 1] : fallback
}

const DB = option('db', 'sqlite')
if (DB !== 'sqlite' && DB !== 'pg') throw new Error('--db is sqlite or pg')
const RATES = option('rates', '50,100').split(',').map(Number)
const CALLS = Number(option('calls', '600'))
const PHONES = Number(option('phones', '4'))
const RUNS = Number(option('runs', '3'))
const PAUSE_MS = Number(option('pause-ms', '1000'))
const CPU_PROFILE_DIR = option('cpu-prof', '')
const CALLEE = '+4930555000'

const ROOT = fileURLToPath(new URL('../', import.meta.url))
const PG_DB_NAME = process.env.PG_BENCH_DB_NAME ?? 'fluffycall_bench'

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
        REDIS_PREFIX: 'fluffycall-bench:',
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
    'fluffycall-bench:*',
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
const { makeCompany, makeUser } = await import('#tests/support/accounts')
const { freePort, isBound, startSipp } = await import('#tests/support/sip_peers')
const { serverReady } = await import('#tests/support/server_process')

// One company, PHONES users with a desk phone each; limits far above what the bench offers.
const company = await makeCompany('active')
const wide = { concurrent: 100_000, perMinute: 1_000_000, perHour: 1_000_000, perDay: 1_000_000 }
await FraudCompanyPolicy.create({
  companyId: company.id,
  allowedCountries: ['DE'],
  enabledRiskClasses: [],
  outboundSuspension: 'none',
  limits: { company: wide, user: wide, device: wide, callsToOneNumberPerHour: 1_000_000 },
})
const phones: Array<{ username: string; password: string; ip: string }> = []
for (let index = 0; index < PHONES; index++) {
  const user = await makeUser('member', company)
  const { device, password } = await new SipDeviceService().create(user, `Bench phone ${index}`)
  phones.push({ username: device.sipUsername, password, ip: `127.0.0.${index + 2}` })
}
await CarrierState.create({
  carrierName: 'local',
  enabled: true,
  lifecycle: 'active',
  activatedAt: DateTime.utc(),
})
await CarrierRoute.create({
  region: 'eu',
  prefix: '',
  carrierName: 'local',
  priority: 1,
  weight: 100,
})

const carrier = await startSipp({
  scenario: 'carrier_answer_echo.xml',
  transport: 'u1',
  calls: 1_000_000_000,
  timeoutSeconds: 3600,
  // -aa: the server's OPTIONS health checks are answered 200 outside the scenario.
  extraArgs: ['-aa'],
})

const sipPort = await freePort('udp')
const httpPort = await freePort('tcp')
const server: ChildProcess = spawn(
  process.execPath,
  [
    ...(CPU_PROFILE_DIR ? ['--cpu-prof', '--cpu-prof-dir', CPU_PROFILE_DIR] : []),
    '--import',
    '@poppinss/ts-exec',
    '--import',
    './bench/support/server_probe.ts',
    'bin/server.ts',
  ],
  {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(httpPort),
      SIP_TRANSPORTS: 'udp',
      SIP_UDP_PORT: String(sipPort),
      LOCAL_CARRIER_PORT: String(carrier.port),
      NODE_ID: 'bench-node',
    },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  }
)
let serverErrors = ''
server.stderr!.on('data', (chunk) => (serverErrors = (serverErrors + chunk).slice(-5000)))
const deadline = Date.now() + 60_000
while (!isBound('udp', sipPort) || !(await serverReady(String(httpPort)))) {
  if (server.exitCode !== null) throw new Error(`the server exited: ${serverErrors}`)
  if (Date.now() > deadline) throw new Error(`the server was not ready in 60 s: ${serverErrors}`)
  await new Promise((resolve) => setTimeout(resolve, 200))
}

interface Probe {
  cpuMicros: number
  loopDelayP99Ms: number
  loopDelayMaxMs: number
  statements: Array<{ sql: string; count: number; micros: number; rows: number }>
}
/** The server's own messages (AdonisJS tells a parent when it is ready) are not the probe's. */
function probe(message: 'reset' | 'read'): Promise<Probe> {
  return new Promise((resolve) => {
    const answered = (answer: any) => {
      if (!answer?.benchProbe) return
      server.off('message', answered)
      resolve(answer as Probe)
    }
    server.on('message', answered)
    server.send(`bench:${message}`)
  })
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

interface RunResult {
  offered: number
  successful: number
  failed: number
  completedPerSecond: number
  cpuMsPerCall: number
  loopDelayP99Ms: number
  loopDelayMaxMs: number
  cdrs: number
}

async function measure(rate: number, calls: number): Promise<RunResult> {
  const perPhone = Math.ceil(calls / phones.length)
  const phoneRate = rate / phones.length
  const cdrsBefore = await CallRecord.query().whereNotNull('ended_at').count('* as total')
  const before = await probe('reset')
  const started = performance.now()
  const sipps = await Promise.all(
    phones.map((phone) =>
      startSipp({
        scenario: '../../../bench/sipp/phone_call_out.xml',
        transport: 'u1',
        target: `127.0.0.1:${sipPort}`,
        localIp: phone.ip,
        calls: perPhone,
        timeoutSeconds: Math.ceil(perPhone / phoneRate) + 60,
        traceStats: true,
        keys: { domain: configuredRealm(), callee: CALLEE },
        extraArgs: [
          '-auth_uri',
          `${CALLEE}@127.0.0.1:${sipPort}`,
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
  const seconds = (performance.now() - started) / 1000
  // The CDR's close and the call:ended listeners trail the phone's last 200 by a little.
  await new Promise((resolve) => setTimeout(resolve, 1000))
  const after = await probe('read')
  let successful = 0
  let failed = 0
  for (const [index, sipp] of sipps.entries()) {
    const stats = sipp.statistics()
    successful += Number(stats['SuccessfulCall(C)'] ?? 0)
    failed += Number(stats['FailedCall(C)'] ?? 0)
    if (outcomes[index].code !== 0 && failed === 0) failed += 1
    sipp.stop()
  }
  if (process.env.BENCH_SQL_STATS)
    console.error(
      JSON.stringify(
        after.statements.slice(0, 40).map((entry) => ({
          ...entry,
          perCall: Math.round((entry.count / Math.max(1, successful)) * 100) / 100,
        })),
        null,
        1
      )
    )
  const cdrsAfter = await CallRecord.query().whereNotNull('ended_at').count('* as total')
  return {
    offered: rate,
    successful,
    failed,
    completedPerSecond: Math.round((successful / seconds) * 10) / 10,
    cpuMsPerCall:
      Math.round(((after.cpuMicros - before.cpuMicros) / 1000 / Math.max(1, successful)) * 100) /
      100,
    loopDelayP99Ms: Math.round(after.loopDelayP99Ms * 10) / 10,
    loopDelayMaxMs: Math.round(after.loopDelayMaxMs * 10) / 10,
    cdrs: Number(cdrsAfter[0].$extras.total) - Number(cdrsBefore[0].$extras.total),
  }
}

// Warm-up (JIT, caches, pools); not reported.
await measure(Math.min(...RATES), Math.min(100, CALLS))

// What the server costs with no call at all (timers, health checks, monitoring): part of every
// run's CPU, a larger share of it at lower rates.
const idleBefore = await probe('reset')
await new Promise((resolve) => setTimeout(resolve, 10_000))
const idleAfter = await probe('read')
const idleCpuMsPerSecond = Math.round((idleAfter.cpuMicros - idleBefore.cpuMicros) / 10_000)

const results = []
for (const rate of RATES) {
  const runs: RunResult[] = []
  for (let index = 0; index < RUNS; index++) {
    runs.push(await measure(rate, CALLS))
    console.error(JSON.stringify(runs.at(-1)))
  }
  results.push({
    offeredPerSecond: rate,
    successfulMedian: median(runs.map((entry) => entry.successful)),
    failedTotal: runs.reduce((sum, entry) => sum + entry.failed, 0),
    completedPerSecondMedian: median(runs.map((entry) => entry.completedPerSecond)),
    cpuMsPerCallMedian: median(runs.map((entry) => entry.cpuMsPerCall)),
    cpuMsPerCallRuns: runs.map((entry) => entry.cpuMsPerCall),
    loopDelayP99MsMedian: median(runs.map((entry) => entry.loopDelayP99Ms)),
    cdrsPerRun: runs.map((entry) => entry.cdrs),
  })
}

console.log(
  JSON.stringify(
    {
      bench: 'call setups through the B2BUA: sipp phones (digest) -> server -> sipp carrier, BYE',
      database: DB === 'sqlite' ? 'SQLite' : 'PostgreSQL + Redis',
      phones: PHONES,
      callsPerRun: CALLS,
      runs: RUNS,
      pauseMs: PAUSE_MS,
      idleCpuMsPerSecond,
      node: process.version,
      results,
    },
    null,
    2
  )
)

carrier.stop()
server.kill('SIGTERM')
await new Promise((resolve) => server.once('exit', resolve))
await app.terminate()
