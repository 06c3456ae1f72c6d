/*
 * SIP call setups per second through our stack: the transport layer and user agent core are
 * started in this process on an ephemeral UDP port (127.0.0.1), with an INVITE handler that
 * answers 200 with SDP at once; sipp (Debian's sip-tester) calls from 127.0.0.2 with the short
 * call of the e2e tests: INVITE, 200, ACK, BYE, 200. For each offered rate, 5 runs of CALLS calls;
 * per run: calls that sipp counts successful or failed, successful calls per second of wall
 * time, and the CPU time (user + system, process.cpuUsage) this process spent per call. Prints
 * medians as JSON. sipp runs on the same (shared, 2-core) machine and competes for the CPU, so
 * the CPU time per call is the figure to compare over time; the rate is an end-to-end figure.
 *
 * The per-source rate limit is off here (a single load generator would otherwise be held to the
 * production budget of 300 messages/s, about 100 calls/s); `--limit` measures with it on.
 *
 *   node --import @poppinss/ts-exec bench/sip_calls.ts [--calls 500] [--max-calls 2000]
 *     [--rates 100,200,400,max] [--limit]
 */
import {
  SipTransportLayer,
  SipUserAgentCore,
  SystemClock,
  silentLogger,
  type SipTransportConfig,
} from '#sip'
import { startSipp } from '#tests/support/sip_peers'
import { option } from './support/options.ts'

const RUNS = 5

const CALLS = Number(option('calls', '500'))
/** The unpaced runs are over in a fraction of a second at 500 calls; more make them steadier. */
const MAX_CALLS = Number(option('max-calls', '2000'))
const RATES = option('rates', '100,200,400,max').split(',')
const LIMITED = process.argv.includes('--limit')
/** "max": offered far above what the pair can do, with at most 50 calls open at once. */
const MAX_RATE = 5000

const SDP = Buffer.from(
  [
    'v=0',
    'o=fluffycall 1 1 IN IP4 127.0.0.1',
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    'm=audio 40000 RTP/AVP 0 101',
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:101 telephone-event/8000',
    '',
  ].join('\r\n')
)

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

const config: SipTransportConfig = {
  host: '127.0.0.1',
  udp: { enabled: true, port: 0 },
  tcp: { enabled: false, port: 0 },
  tls: { enabled: false, port: 0, verifyPeers: false, handshakeTimeoutMs: 10_000 },
  ws: { enabled: false, path: '/sip', allowedOrigins: [], trustedProxies: [] },
  limits: {
    maxMessageSize: 64 * 1024,
    maxConnectionsPerSource: 100,
    maxConnections: 10_000,
    idleTimeoutMs: 15 * 60 * 1000,
  },
  rateLimit: { enabled: LIMITED, burst: 400, perSecond: 300, maxSources: 50_000 },
}

const clock = new SystemClock()
const layer = new SipTransportLayer({ config, clock, logger: silentLogger })
const core = new SipUserAgentCore({ transport: layer, clock, productName: 'FluffyCall' })
let answered = 0
core.setInviteHandler((invite) => {
  answered += 1
  invite.accept({ description: { body: SDP, contentType: 'application/sdp' } })
})
layer.attach(core)
await layer.start()
const port = layer.localAddress('udp')!.port

interface RunResult {
  successful: number
  failed: number
  setupsPerSecond: number
  cpuMicrosPerCall: number
  exitCode: number | null
}

async function run(rate: string): Promise<RunResult> {
  const offered = rate === 'max' ? MAX_RATE : Number(rate)
  const calls = rate === 'max' ? MAX_CALLS : CALLS
  const sipp = await startSipp({
    scenario: 'uac_short_call.xml',
    transport: 'u1',
    localIp: '127.0.0.2',
    target: `127.0.0.1:${port}`,
    calls,
    timeoutSeconds: Math.ceil((calls / Math.min(offered, 50)) * 2) + 30,
    traceStats: true,
    extraArgs: ['-r', String(offered), '-l', rate === 'max' ? '50' : String(Math.max(50, offered))],
  })
  const cpuBefore = process.cpuUsage()
  const started = performance.now()
  const outcome = await sipp.done
  const seconds = (performance.now() - started) / 1000
  const cpu = process.cpuUsage(cpuBefore)
  const stats = sipp.statistics()
  sipp.stop()
  const successful = Number(stats['SuccessfulCall(C)'] ?? 0)
  const failed = Number(stats['FailedCall(C)'] ?? 0)
  return {
    successful,
    failed,
    setupsPerSecond: successful / seconds,
    cpuMicrosPerCall: (cpu.user + cpu.system) / Math.max(1, successful),
    exitCode: outcome.code,
  }
}

// Warm-up: JIT and socket buffers; not reported.
await run('200')

const results = []
for (const rate of RATES) {
  const runs: RunResult[] = []
  for (let index = 0; index < RUNS; index++) {
    runs.push(await run(rate))
  }
  results.push({
    offeredPerSecond: rate === 'max' ? `max (${MAX_RATE}, at most 50 open)` : Number(rate),
    successfulMedian: median(runs.map((entry) => entry.successful)),
    failedTotal: runs.reduce((sum, entry) => sum + entry.failed, 0),
    nonZeroExits: runs.filter((entry) => entry.exitCode !== 0).length,
    setupsPerSecondMedian: Math.round(median(runs.map((entry) => entry.setupsPerSecond))),
    cpuMicrosPerCallMedian: Math.round(median(runs.map((entry) => entry.cpuMicrosPerCall))),
  })
}

console.log(
  JSON.stringify(
    {
      bench: 'SIP call setups (INVITE, 200, ACK, BYE, 200) over UDP, sipp UAC to our stack',
      callsPerRun: { paced: CALLS, max: MAX_CALLS },
      runs: RUNS,
      rateLimit: LIMITED ? 'on (burst 400, 300/s per source)' : 'off',
      node: process.version,
      answered,
      results,
    },
    null,
    2
  )
)

layer.detach()
core.close()
await layer.close()
