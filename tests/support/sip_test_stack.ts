import app from '@adonisjs/core/services/app'
import SipUri from '#sip/message/sip_uri'
import type SipStack from '#sip/sip_stack'
import type SipDialog from '#sip/dialog/sip_dialog'
import type SipResponse from '#sip/message/sip_response'
import type { SessionDescription } from '#sip/dialog/session_description'
import type OutgoingInvite from '#sip/ua/outgoing_invite'
import { destinationOf, type Binding } from '#sip/registrar/binding'
import SipDeviceService from '#calls/services/sip_device_service'
import { makeUser } from '#tests/support/accounts'
import {
  freePort,
  startSipp,
  startStunnel,
  type SippOutcome,
  type SippProcess,
  type Stunnel,
} from '#tests/support/sip_peers'
import { userSubject } from '#calls/signalling/sip_subject'

/**
 * The app's running SIP stack in e2e tests, and what the SIP call and registration tests do
 * with it: calls out to a sipp callee (behind stunnel4 for TLS), SIP devices registering, and
 * calls to their bindings.
 */

export type SipProtocol = 'udp' | 'tcp' | 'tls'

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** The stack the SIP provider started for the test run. */
export async function sipStack(): Promise<SipStack> {
  const stack = await app.container.make('sip.stack')
  if (!stack.layer.started) {
    throw new Error('the SIP provider did not start the stack')
  }
  return stack
}

/**
 * Moves the server's SIP time past Timer B, D, F, H, J, L and M (64*T1, RFC 3261 17, RFC 6026),
 * so that a test sees transactions end by their timers without waiting 32 s (the test
 * environment's SIP clock is a WarpClock, providers/sip_provider.ts).
 */
export async function warpPastTransactionTimers() {
  const clock = await app.container.make('sip.clock')
  if (!clock.warp) throw new Error('the SIP clock of this environment cannot be moved forward')
  clock.warp(64 * app.config.get<number>('sip.timers.t1') + 1000)
}

export function localPort(stack: SipStack, protocol: SipProtocol): number {
  const address = stack.layer.localAddress(protocol)
  if (!address) throw new Error(`SIP ${protocol} is not listening`)
  return address.port
}

/** A fixed audio offer; `version` is the o= line's session version (2 for a re-INVITE). */
export function sdp(version: number): SessionDescription {
  const body = [
    'v=0',
    `o=fluffycall 4711 ${version} IN IP4 127.0.0.1`,
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    'm=audio 40000 RTP/AVP 0 101',
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=sendrecv',
    '',
  ].join('\r\n')
  return { body: Buffer.from(body), contentType: 'application/sdp' }
}

/** The promise, or a rejection naming `what` after `ms`. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** Polls until `condition` holds or the time is up; returns the milliseconds waited. */
export async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<number> {
  const started = Date.now()
  while (!condition()) {
    if (Date.now() - started > timeoutMs) break
    await sleep(50)
  }
  return Date.now() - started
}

export interface OutgoingCall {
  invite: OutgoingInvite
  accepted: Promise<{ dialog: SipDialog; response: SipResponse }>
  progress: Promise<SipResponse>
  canceled: Promise<SipResponse>
}

/** core.invite with a delegate turned into promises. */
export function callOut(
  stack: SipStack,
  uri: string,
  credentials?: { username: string; password: string }
): OutgoingCall {
  let accept!: (value: { dialog: SipDialog; response: SipResponse }) => void
  let fail!: (error: Error) => void
  let ringing!: (response: SipResponse) => void
  let cancel!: (response: SipResponse) => void
  const accepted = new Promise<{ dialog: SipDialog; response: SipResponse }>((resolve, reject) => {
    accept = resolve
    fail = reject
  })
  const progress = new Promise<SipResponse>((resolve) => (ringing = resolve))
  const canceled = new Promise<SipResponse>((resolve) => (cancel = resolve))
  // Whoever does not await one of these must not see an unhandled rejection.
  accepted.catch(() => {})
  const invite = stack.core.invite({
    uri: SipUri.parse(uri),
    description: sdp(1),
    credentials,
    delegate: {
      onProgress: (response) => ringing(response),
      onAccepted: (dialog, response) => accept({ dialog, response }),
      onRejected: (response) => fail(new Error(`INVITE rejected ${response.status}`)),
      onCanceled: (response) => cancel(response),
    },
  })
  return { invite, accepted, progress, canceled }
}

/**
 * A sipp UAS reachable over `protocol`: for TLS, stunnel4 terminates TLS on its own port and
 * forwards to sipp's TCP listener. `uri` is what our client calls; the Contact sipp writes
 * (keywords chost/cport/ctransport) names the same address, so that in-dialog requests take
 * the same way.
 */
export async function sippCallee(
  scenario: string,
  protocol: SipProtocol,
  options: { keys?: Record<string, string> } = {}
): Promise<{ sipp: SippProcess; uri: string; stop: () => Promise<void> }> {
  let stunnel: Stunnel | undefined
  let publicPort: number | undefined
  if (protocol === 'tls') {
    publicPort = await freePort('tcp')
  }
  const sipp = await startSipp({
    scenario,
    transport: protocol === 'udp' ? 'u1' : 't1',
    // The Contact names sipp's own port unless stunnel stands in front of it.
    keys: (sippPort) => ({
      chost: '127.0.0.1',
      cport: String(publicPort ?? sippPort),
      ctransport: protocol,
      ...options.keys,
    }),
    traceMessages: true,
    timeoutSeconds: 15,
  })
  const port = publicPort ?? sipp.port
  if (protocol === 'tls') {
    try {
      // The stack's own development certificate (tests generate it in tmp/sip-tls).
      stunnel = await startStunnel({
        mode: 'server',
        acceptPort: port,
        connectPort: sipp.port,
        certPath: app.tmpPath('sip-tls', 'cert.pem'),
        keyPath: app.tmpPath('sip-tls', 'key.pem'),
      })
    } catch (error) {
      sipp.stop()
      throw error
    }
  }
  const transport = protocol === 'udp' ? '' : `;transport=${protocol}`
  return {
    sipp,
    uri: `sip:service@127.0.0.1:${port}${transport}`,
    stop: async () => {
      sipp.stop()
      await stunnel?.stop()
    },
  }
}

/**
 * A plain TCP port in front of the stack's TLS listener (stunnel4 as TLS client), for sipp,
 * whose Debian build has no TLS: sipp speaks TCP to `port`, the stack sees a TLS connection.
 */
export async function tlsTunnelTo(stack: SipStack): Promise<{ port: number; stunnel: Stunnel }> {
  const port = await freePort('tcp')
  const stunnel = await startStunnel({
    mode: 'client',
    acceptPort: port,
    connectPort: localPort(stack, 'tls'),
  })
  return { port, stunnel }
}

/** Runs a test body; when it fails, the error carries sipp's screen, errors and messages. */
export async function diagnosed<T>(sipp: SippProcess, body: () => Promise<T>): Promise<T> {
  try {
    return await body()
  } catch (error) {
    sipp.kill()
    const outcome = await sipp.done
    if (error instanceof Error) {
      error.message += `\n${sipp.describe(outcome)}\nmessages:\n${sipp.messages().slice(-4000)}`
    }
    throw error
  }
}

/** A sipp callee for the length of `body`; failures carry sipp's account of the call. */
export async function withCallee(
  scenario: string,
  protocol: SipProtocol,
  body: (callee: { sipp: SippProcess; uri: string }) => Promise<void>,
  options: { keys?: Record<string, string> } = {}
): Promise<void> {
  const callee = await sippCallee(scenario, protocol, options)
  try {
    await diagnosed(callee.sipp, () => body(callee))
  } finally {
    await callee.stop()
  }
}

/** A company user with one SIP device, created the way the devices page does it. */
export async function userWithDevice() {
  const user = await makeUser('member')
  const { device, password } = await new SipDeviceService().create(user, 'Desk phone')
  return { user, device, username: device.sipUsername, password }
}

/**
 * Polls the registrar until the user has a live binding; fails early with sipp's own account
 * when sipp exits first.
 */
export async function registeredBindings(stack: SipStack, userId: number, phone: SippProcess) {
  let exited: SippOutcome | undefined
  void phone.done.then((outcome) => (exited = outcome))
  const deadline = Date.now() + 10_000
  for (;;) {
    const bindings = await stack.registrar.registrar.lookupSubject(userSubject(userId))
    // Registered means the phone has its 200 too (when it traces messages): the binding is stored
    // a moment before the 200 leaves, and an INVITE in that moment would overtake it.
    const log = phone.messages()
    const answered =
      !log.includes('REGISTER') || /message received[^\n]*\n\s*SIP\/2\.0 200/.test(log)
    if (bindings.length > 0 && answered) return bindings
    if (exited) throw new Error(`no binding; ${phone.describe(exited)}\n${phone.messages()}`)
    if (Date.now() > deadline) {
      phone.stop()
      throw new Error(`no binding after 10 s; ${phone.describe(await phone.done)}`)
    }
    await sleep(25)
  }
}

/**
 * Polls until the user has no binding left; returns the milliseconds it took, or throws after
 * `timeoutMs` with what is still bound.
 */
export async function bindingsGone(
  stack: SipStack,
  userId: number,
  timeoutMs = 5000
): Promise<number> {
  const started = Date.now()
  for (;;) {
    const bindings = await stack.registrar.registrar.lookupSubject(userSubject(userId))
    if (bindings.length === 0) return Date.now() - started
    if (Date.now() - started > timeoutMs) {
      throw new Error(
        `still bound after ${timeoutMs} ms: ${bindings.map((binding) => `${binding.source.protocol} ${binding.source.connectionId}`).join(', ')}`
      )
    }
    await sleep(25)
  }
}

export async function removeBindings(stack: SipStack, bindings: Binding[]) {
  for (const binding of bindings) {
    await stack.registrar.bindings.remove(binding)
  }
}

/**
 * Calls a binding the way inbound calls do: to the flow its REGISTER came in on, with its
 * Contact as Request-URI. Resolves with the dialog once answered.
 */
export function callBinding(
  stack: SipStack,
  binding: Binding,
  description: SessionDescription,
  callId?: string
) {
  return new Promise<SipDialog>((resolve, reject) => {
    stack.core.invite({
      uri: SipUri.parse(binding.contactUri),
      destination: destinationOf(binding),
      callId,
      description,
      delegate: {
        onAccepted: (dialog) => resolve(dialog),
        onRejected: (response) => reject(new Error(`INVITE rejected ${response.status}`)),
      },
    })
  })
}
