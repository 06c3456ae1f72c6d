import { configuredRealm } from '#calls/signalling/registrar_settings'
import SipDeviceService from '#calls/services/sip_device_service'
import CallRecord from '#calls/models/call_record'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { routeAllCallsTo } from '#tests/support/calls'
import { freePort, startSipp, type SippProcess } from '#tests/support/sip_peers'
import { startServer, until } from '#tests/support/server_process'

/**
 * Desk phones (sipp with digest credentials, on 127.0.0.2) for tests of a whole server process
 * (tests/support/server_process): its SIP UDP port, the environment it runs with, and the
 * check that a sipp scenario went as written.
 */

/** The server process's environment: SIP on UDP only, the local carrier at `carrierPort`. */
export function serverProcessEnv(
  ports: { http: number; sip: number; carrier: number },
  nodeId: string,
  extra: NodeJS.ProcessEnv = {}
): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NODE_ENV: 'test',
    PORT: String(ports.http),
    SIP_TRANSPORTS: 'udp',
    SIP_UDP_PORT: String(ports.sip),
    LOCAL_CARRIER_PORT: String(ports.carrier),
    NODE_ID: nodeId,
    CALL_DRAIN_SECONDS: '1',
    NO_COLOR: '1',
    ...extra,
  }
}

/**
 * A desk phone running `scenario` against the server on `sipPort`: with `callee` it dials that
 * number (digest URI included) and talks `pauseMs` where the scenario pauses; without, the
 * scenario's own request (REGISTER, SUBSCRIBE to `keys.callee`).
 */
export function deskPhone(options: {
  sipPort: number
  username: string
  password: string
  scenario: string
  callee?: string
  pauseMs?: number
  keys?: Record<string, string>
  timeoutSeconds?: number
}): Promise<SippProcess> {
  const { sipPort, username, password, callee } = options
  return startSipp({
    scenario: options.scenario,
    transport: 'u1',
    target: `127.0.0.1:${sipPort}`,
    localIp: '127.0.0.2',
    timeoutSeconds: options.timeoutSeconds ?? 30,
    traceMessages: true,
    keys: { domain: configuredRealm(), ...(callee ? { callee } : {}), ...options.keys },
    extraArgs: [
      ...(callee
        ? ['-d', String(options.pauseMs ?? 500), '-auth_uri', `${callee}@127.0.0.1:${sipPort}`]
        : []),
      ...['-s', username, '-au', username, '-ap', password],
    ],
  })
}

/** sipp exited 0 (its scenario went as written); else fails with what it saw. */
export async function expectScenario(sipp: SippProcess, what: string, assert: { equal: Function }) {
  const outcome = await sipp.done
  assert.equal(
    outcome.code,
    0,
    `${what}: ${sipp.describe(outcome)}\n${sipp.messages().slice(-3000)}`
  )
}

/**
 * A server process (on `env`'s database and Redis) with a company's desk phone and a sipp carrier
 * that answers `carrierCalls` calls with an echo and waits for each BYE: for tests that take away
 * what the server depends on while it works. Everything stops in `cleanup`.
 */
export async function serverWithDeskPhone(options: {
  nodeId: string
  carrierCalls: number
  /** The carrier's sipp scenario (tests/e2e/sipp); carrier_answer_echo.xml by default. */
  carrierScenario?: string
  env: NodeJS.ProcessEnv
  cleanup: (task: () => void | Promise<void>) => void
}) {
  const { nodeId, cleanup } = options
  const company = await makeCompany('active')
  const user = await makeUser('member', company)
  const { device, password } = await new SipDeviceService().create(user, 'Desk phone')
  await routeAllCallsTo(['local'])
  const carrier = await startSipp({
    scenario: options.carrierScenario ?? 'carrier_answer_echo.xml',
    transport: 'u1',
    calls: options.carrierCalls,
    timeoutSeconds: 60,
    traceMessages: true,
    extraArgs: ['-aa', '-rtp_echo'],
  })
  cleanup(() => carrier.stop())
  const sipPort = await freePort('udp')
  const httpPort = await freePort('tcp')
  const server = await startServer(
    serverProcessEnv({ http: httpPort, sip: sipPort, carrier: carrier.port }, nodeId, options.env),
    sipPort
  )
  cleanup(() => {
    server.child.kill('SIGKILL')
  })
  const phone = { sipPort, username: device.sipUsername, password }
  /** The node's CDRs, oldest first. */
  const calls = () => CallRecord.query().where('node_id', nodeId).orderBy('id')
  return {
    server,
    carrier,
    phone,
    httpPort,
    calls,
    /** The desk phone calls `callee` with `scenario`, talking `pauseMs`. */
    async call(scenario: string, callee: string, pauseMs = 500) {
      const sipp = await deskPhone({ ...phone, scenario, callee, pauseMs })
      cleanup(() => sipp.stop())
      return sipp
    },
    /** The node's CDRs once every one is closed. */
    allClosed() {
      return until('every CDR closed', 10_000, async () => {
        const all = await calls()
        return all.every((record) => record.endedAt !== null) ? all : null
      })
    },
    /** The first CDR of the node that is answered (the server's stderr in the failure). */
    firstAnswered() {
      return until('the first call answered', 20_000, async () =>
        (await calls()).find((record) => record.answeredAt !== null)
      ).catch((error) => {
        throw new Error(`${error.message}\nserver: ${server.stderr()}`)
      })
    },
  }
}
