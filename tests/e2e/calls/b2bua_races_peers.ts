import dgram from 'node:dgram'
import { randomInt } from 'node:crypto'
import app from '@adonisjs/core/services/app'
import SipDeviceService from '#calls/services/sip_device_service'
import { configuredRealm } from '#calls/signalling/registrar_settings'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { freePort, startSipp, type SippProcess, type Stunnel } from '#tests/support/sip_peers'
import { tlsTunnelTo, warpPastTransactionTimers } from '#tests/support/sip_test_stack'
import { alawToneWav } from '#tests/support/rtp_capture'
import { sipSubjectParts, userSubject } from '#calls/signalling/sip_subject'

/**
 * Peers for the B2BUA race tests (b2bua_races*.spec.ts): sipp phones and carriers, registered
 * sipp devices, plain UDP sockets that play or record RTP, and a check that a call left nothing
 * behind in the SIP stack or the media engine.
 */

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export async function sipUdpPort() {
  const stack = await app.container.make('sip.stack')
  const address = stack.layer.localAddress('udp')
  if (!address) throw new Error('SIP UDP is not listening')
  return address.port
}

export async function phoneFor(overrides: { rejectAnonymous?: boolean } = {}) {
  const company = await makeCompany('active')
  const user = await makeUser('member', company)
  if (overrides.rejectAnonymous) {
    user.rejectAnonymous = true
    await user.save()
  }
  const { device, password } = await new SipDeviceService().create(user, 'Desk phone')
  return { company, user, username: device.sipUsername, password, deviceId: device.id }
}

export type Phone = Awaited<ReturnType<typeof phoneFor>>

/** A sipp carrier (UAS) on 127.0.0.1; keys and files as the scenario needs them. */
export async function sippCarrier(
  scenario: string,
  options: {
    timeoutSeconds?: number
    keys?: Record<string, string>
    tone?: boolean
    echo?: boolean
  } = {}
): Promise<SippProcess> {
  return startSipp({
    scenario,
    transport: 'u1',
    timeoutSeconds: options.timeoutSeconds ?? 25,
    traceMessages: true,
    keys: options.keys,
    files: options.tone ? { 'tone.wav': alawToneWav(2) } : undefined,
    extraArgs: options.echo ? ['-rtp_echo'] : [],
  })
}

/** A customer's SIP phone (sipp UAC with digest credentials on 127.0.0.2) calling `callee`. */
export async function sippPhoneCall(
  phone: { username: string; password: string },
  callee: string,
  scenario: string,
  options: {
    keys?: Record<string, string>
    pauseMs?: number
    tone?: boolean
    timeoutSeconds?: number
    /** The phone's RTP port (a free one unless given, e.g. to capture it). */
    mediaPort?: number
    /**
     * Over TLS: sipp's TCP to a stunnel4 client that speaks TLS to us (Debian's sipp has no TLS),
     * stopped when sipp exits.
     */
    tls?: boolean
  } = {}
): Promise<SippProcess> {
  let port = await sipUdpPort()
  let tunnel: Stunnel | undefined
  if (options.tls) {
    const tls = await tlsTunnelTo(await app.container.make('sip.stack'))
    tunnel = tls.stunnel
    port = tls.port
  }
  const sipp = await startSipp({
    scenario,
    transport: options.tls ? 't1' : 'u1',
    target: `127.0.0.1:${port}`,
    localIp: options.tls ? '127.0.0.1' : '127.0.0.2',
    timeoutSeconds: options.timeoutSeconds ?? 25,
    traceMessages: true,
    keys: { domain: configuredRealm(), callee, ...options.keys },
    files: options.tone ? { 'tone.wav': alawToneWav(2) } : undefined,
    // sipp's digest uri is its target address unless told: ours must be the Request-URI.
    extraArgs: [
      '-auth_uri',
      `${callee}@127.0.0.1:${port}`,
      '-d',
      String(options.pauseMs ?? 1000),
      '-s',
      phone.username,
      '-au',
      phone.username,
      '-ap',
      phone.password,
      ...(options.mediaPort ? ['-mp', String(options.mediaPort)] : []),
    ],
  }).catch(async (error) => {
    await tunnel?.stop()
    throw error
  })
  if (tunnel) void sipp.done.finally(() => tunnel.stop())
  return sipp
}

export async function expectExit(sipp: SippProcess, code: number, assert: { equal: Function }) {
  const outcome = await sipp.done
  assert.equal(outcome.code, code, `${sipp.describe(outcome)}\n${sipp.messages().slice(-6000)}`)
}

/**
 * A phone registered for real (sipp REGISTER with digest from 127.0.0.3), then answering on the
 * port it registered from with `scenario`: our INVITE reaches it through its binding.
 */
export async function registeredDevice(phone: Phone, scenario: string, timeoutSeconds = 25) {
  const stack = await app.container.make('sip.stack')
  const registration = await startSipp({
    scenario: 'uac_register.xml',
    transport: 'u1',
    target: `127.0.0.1:${await sipUdpPort()}`,
    localIp: '127.0.0.3',
    keys: { domain: configuredRealm() },
    extraArgs: ['-s', phone.username, '-au', phone.username, '-ap', phone.password],
  })
  const registered = await registration.done
  registration.stop()
  if (registered.code !== 0)
    throw new Error(`the phone did not register: ${registration.describe(registered)}`)
  const bindings = await stack.registrar.registrar.lookupSubject(userSubject(phone.user.id))
  const binding = bindings.find(
    (candidate) => sipSubjectParts(candidate.subject)?.deviceId === phone.deviceId
  )
  if (!binding)
    throw new Error(`no binding for device ${phone.deviceId}: ${JSON.stringify(bindings)}`)
  const sipp = await startSipp({
    scenario,
    transport: 'u1',
    localIp: '127.0.0.3',
    port: binding.source.port,
    timeoutSeconds,
    traceMessages: true,
  })
  return {
    sipp,
    unregister: () => stack.registrar.bindings.remove(binding),
  }
}

/** Waits until the SIP stack has no dialog and the media engine no open leg (and, if asked, no transaction). */
export async function leftBehind(options: { transactions: boolean; ms: number }) {
  const stack = await app.container.make('sip.stack')
  const media = await app.container.make('media.engine')
  const count = () => ({
    dialogs: stack.core.dialogCount,
    transactions: options.transactions ? stack.core.transactionCount : 0,
    mediaLegs: media.openLegs,
  })
  const settled = async (ms: number) => {
    const deadline = Date.now() + ms
    for (;;) {
      const now = count()
      if (now.dialogs === 0 && now.transactions === 0 && now.mediaLegs === 0) return now
      if (Date.now() > deadline) return now
      await sleep(200)
    }
  }
  if (!options.transactions) return settled(options.ms)
  // What the calls' ends leave at once; then the server's SIP time moves past Timer J and L
  // (64*T1, RFC 3261 17.2.2, 17.2.1): transactions, and early dialogs living as long as their
  // INVITE transaction, must be gone by those timers, without the test waiting 32 s for them.
  const first = await settled(Math.min(options.ms, 3000))
  if (first.dialogs === 0 && first.transactions === 0 && first.mediaLegs === 0) return first
  await warpPastTransactionTimers()
  return settled(options.ms)
}

/** The media port of the first audio stream in the last SDP of `method` (e.g. 'INVITE sip:') in a sipp log. */
export function sdpPort(messages: string, startLine: string): number | null {
  const at = messages.lastIndexOf(startLine)
  if (at === -1) return null
  const match = /m=audio (\d+) /.exec(messages.slice(at))
  return match ? Number(match[1]) : null
}

/** Status codes of the responses a sipp process received to `method`, in order (from its message log). */
export function receivedStatuses(messages: string, method: string): number[] {
  return messages
    .split(/^-{10,}.*$/m)
    .filter((part) => /message received/.test(part))
    .map((part) => ({
      status: /^SIP\/2\.0 (\d{3})/m.exec(part),
      cseq: /^CSeq:\s*\d+\s+(\S+)/im.exec(part),
    }))
    .filter((found) => found.status && found.cseq?.[1].toUpperCase() === method)
    .map((found) => Number(found.status![1]))
}

export interface ReceivedRtp {
  at: number
  payloadType: number
  marker: boolean
  seq: number
  timestamp: number
  ssrc: number
  /** The first payload byte: which source the test's player stamped on it. */
  tag: number
}

/** A plain UDP socket standing in for an RTP endpoint: records what arrives, can play a stream. */
export class RtpEndpoint {
  readonly received: ReceivedRtp[] = []
  /** Packets played, and how many of them were left out on purpose. */
  sent = 0
  dropped = 0
  readonly #socket = dgram.createSocket('udp4')
  #player: NodeJS.Timeout | undefined

  constructor(readonly host: string) {}

  get port() {
    return this.#socket.address().port
  }

  async open(port?: number) {
    await new Promise<void>((resolve, reject) => {
      this.#socket.once('error', reject)
      this.#socket.bind(port ?? 0, this.host, () => resolve())
    })
    this.#socket.on('message', (packet) => {
      if (packet.length < 12 || packet[0] >> 6 !== 2) return
      this.received.push({
        at: Date.now(),
        payloadType: packet[1] & 0x7f,
        marker: (packet[1] & 0x80) !== 0,
        seq: packet.readUInt16BE(2),
        timestamp: packet.readUInt32BE(4),
        ssrc: packet.readUInt32BE(8),
        tag: packet[12],
      })
    })
    return this
  }

  /**
   * Sends 20 ms G.711 packets to `port` on 127.0.0.1, every payload byte set to `tag`; with
   * `dropEvery` n, every n-th packet is left out (its sequence number skipped: lost on the way).
   */
  play(port: number, payloadType: number, tag: number, dropEvery = 0) {
    const ssrc = randomInt(1, 0xffffffff)
    let seq = randomInt(0, 0xffff)
    let timestamp = randomInt(0, 0x7fffffff)
    this.#player = setInterval(() => {
      const packet = Buffer.alloc(12 + 160, tag)
      packet[0] = 0x80
      packet[1] = payloadType
      packet.writeUInt16BE(seq, 2)
      packet.writeUInt32BE(timestamp >>> 0, 4)
      packet.writeUInt32BE(ssrc >>> 0, 8)
      this.sent++
      if (dropEvery > 0 && this.sent % dropEvery === 0) this.dropped++
      else this.#socket.send(packet, port, '127.0.0.1')
      seq = (seq + 1) & 0xffff
      timestamp = (timestamp + 160) >>> 0
    }, 20)
  }

  async close() {
    clearInterval(this.#player)
    await new Promise<void>((resolve) => this.#socket.close(() => resolve()))
  }
}

/** A port for an endpoint the SDP of a sipp scenario names before the endpoint exists. */
export { freePort }

/** The carrier calling `number`; keys fill the caller and the SDP lines of the refused scenario. */
export async function carrierCalls(
  number: string,
  scenario: string,
  keys: Record<string, string> = {}
) {
  const stack = await app.container.make('sip.stack')
  const port = stack.layer.localAddress('udp')!.port
  const mediaPort = String(await freePort('udp'))
  return startSipp({
    scenario,
    transport: 'u1',
    target: `127.0.0.1:${port}`,
    timeoutSeconds: 25,
    traceMessages: true,
    keys: {
      callee: number,
      caller: '+4989123456',
      v: '0',
      c: 'IN IP4 127.0.0.1',
      m: `audio ${mediaPort} RTP/AVP 8 101`,
      a: 'rtpmap:8 PCMA/8000',
      ...keys,
    },
  })
}
