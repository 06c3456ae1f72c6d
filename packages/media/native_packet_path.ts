import type dgram from 'node:dgram'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import type { MediaLegStats } from '#media/types'

/**
 * The media packet path in C++ (native/packet_path.cc, built by bin/lib.sh's build_native): the
 * per-packet work of a leg (demultiplexing, SRTP, reception statistics, the outbound stream's
 * rewriting, the send) on the event loop without a JavaScript call per packet. A leg that uses it
 * hands its UDP sockets over (libuv stops reading them; the addon reads a duplicate descriptor)
 * and gets back, through its handler, every packet that is not RTP for the fast path: STUN,
 * DTLS, RTCP. Where the addon is not built, legs keep the TypeScript packet path.
 */
export interface NativePacketPath {
  createLeg(
    onOther: (packet: Buffer, address: string, port: number, socket: number) => void
  ): number
  addSocket(leg: number, fd: number, sendsFromIt: boolean): void
  configureReceive(
    leg: number,
    acceptPeerOnly: boolean,
    ip: string,
    port: number,
    latching: boolean,
    srtpProfile: number,
    masterKey: Buffer | null,
    masterSalt: Buffer | null,
    audioPt: number,
    dtmfPt: number,
    clockRate: number,
    mki?: Buffer | null
  ): void
  configureSend(
    leg: number,
    allowed: boolean,
    srtpProfile: number,
    masterKey: Buffer | null,
    masterSalt: Buffer | null,
    audioPt: number,
    dtmfPt: number,
    clockRate: number,
    ssrc: number,
    ip?: string,
    port?: number
  ): void
  link(from: number, to: number, paused: boolean): void
  setRtpHandler(
    leg: number,
    handler: ((packet: Buffer, length: number, payloadOffset: number, kind: number) => void) | null
  ): void
  restart(leg: number): void
  send(leg: number, packet: Buffer, length: number, payloadOffset: number, kind: number): boolean
  stats(leg: number, out: Float64Array): void
  takeReport(leg: number, out: Float64Array): void
  closeLeg(leg: number): void
  counters(): [legs: number, wakeups: number, datagrams: number]
  srtpTransform(
    profile: number,
    masterKey: Buffer,
    masterSalt: Buffer,
    protect: boolean,
    packet: Buffer,
    length: number,
    payloadOffset: number
  ): number
}

/** The profile numbers the addon takes (srtp_context.ts's names). */
export const NATIVE_SRTP_PROFILES = {
  AES_CM_128_HMAC_SHA1_80: 1,
  AES_CM_128_HMAC_SHA1_32: 2,
  AEAD_AES_128_GCM: 7,
} as const

const ADDON = fileURLToPath(new URL('./native/build/packet_path.node', import.meta.url))

let addon: NativePacketPath | null | undefined
let unavailable = ''

/** The addon, loaded once; null when it is not built or does not load (see nativeUnavailable). */
export function loadNativePacketPath(): NativePacketPath | null {
  if (addon !== undefined) return addon
  addon = null
  if (!existsSync(ADDON)) {
    unavailable = `${ADDON} is not built (bin/lib.sh build_native)`
    return null
  }
  try {
    addon = createRequire(import.meta.url)(ADDON) as NativePacketPath
  } catch (error) {
    unavailable = `${ADDON} does not load: ${(error as Error).message}`
  }
  return addon
}

/** Why loadNativePacketPath() returned null ('' when it did not). */
export function nativeUnavailable(): string {
  loadNativePacketPath()
  return unavailable
}

/** The parts of Node's UDP handle the take-over uses (node:dgram internals). */
interface UdpHandle {
  fd: number
  recvStart(): number
  recvStop(): number
}

let stateSymbol: symbol | undefined

/**
 * The libuv handle behind a dgram socket, through the socket's internal state (the public
 * `_handle` accessor is deprecated); null if a Node version lays it out otherwise.
 */
export function udpHandle(socket: dgram.Socket): UdpHandle | null {
  // The symbol is one per process (node:dgram's module scope): found on the first socket
  stateSymbol ??= Object.getOwnPropertySymbols(socket).find(
    (candidate) => candidate.description === 'state symbol'
  )
  const state = stateSymbol
    ? (socket as unknown as Record<symbol, { handle?: UdpHandle }>)[stateSymbol]
    : null
  const handle = state?.handle
  if (
    !handle ||
    typeof handle.fd !== 'number' ||
    handle.fd < 0 ||
    typeof handle.recvStop !== 'function' ||
    typeof handle.recvStart !== 'function'
  )
    return null
  return handle
}

/**
 * Hands `socket` to the addon's leg: libuv stops reading it, the addon reads a duplicate of its
 * descriptor. False when the socket's handle cannot be reached (the leg stays in TypeScript).
 */
export function handOver(
  native: NativePacketPath,
  leg: number,
  socket: dgram.Socket,
  sendsFromIt: boolean
): boolean {
  const handle = udpHandle(socket)
  if (handle === null) return false
  native.addSocket(leg, handle.fd, sendsFromIt)
  handle.recvStop()
  return true
}

/** libuv reads a socket handed over again (a take-over that stopped half-way). */
export function handBack(socket: dgram.Socket) {
  udpHandle(socket)?.recvStart()
}

const STATS_LENGTH = 17

/** What RtcpSession and the quality figures read of a leg's reception (ReceptionStats has it). */
export interface ReceptionView {
  readonly expected: number
  readonly lost: number
  readonly received: number
  readonly lossFraction: number
  readonly jitterMs: number
  /** SSRC of the current stream; -1 before the first packet. */
  readonly ssrc: number
  takeReport(): {
    ssrc: number
    fractionLost: number
    cumulativeLost: number
    extendedHighestSeq: number
    jitter: number
  }
}

/** A leg's counters and statistics as the addon keeps them, read when asked. */
export class NativeLegState {
  readonly #native: NativePacketPath
  readonly leg: number
  readonly #values = new Float64Array(STATS_LENGTH)
  readonly #report = new Float64Array(5)

  constructor(native: NativePacketPath, leg: number) {
    this.#native = native
    this.leg = leg
  }

  #closed = false

  /** Figure `index` of the addon's stats (the last ones read once the leg closed). */
  read(index: number): number {
    if (!this.#closed) this.#native.stats(this.leg, this.#values)
    return this.#values[index]
  }

  /** The addon lets go of the leg's sockets; its last figures stay readable here. */
  close() {
    if (this.#closed) return
    this.#native.stats(this.leg, this.#values)
    this.#closed = true
    this.#native.closeLeg(this.leg)
  }

  get closed() {
    return this.#closed
  }

  get packetsReceived() {
    return this.read(0)
  }
  get packetsRejected() {
    return this.read(1)
  }
  get authenticationFailures() {
    return this.read(2)
  }
  get packetsSent() {
    return this.read(3)
  }
  get octetsSent() {
    return this.read(4)
  }
  /** Packets this leg received and the addon sent on through the linked leg. */
  get relayed() {
    return this.read(5)
  }
  get outboundSsrc() {
    return this.read(11)
  }
  get lastTimestamp() {
    return this.read(12)
  }
  get lastSentAt() {
    return this.read(13)
  }
  /** The addon's sendErrors: MediaLegStats.sendFailures. */
  get sendFailures() {
    return this.read(14)
  }
  get latched() {
    return this.read(15) === 1
  }
  /** The port the leg sends to (the latched one once latched). */
  get peerPort() {
    return this.read(16)
  }

  /** MediaLegStats (the public contract) as a live view. */
  readonly stats: MediaLegStats = new NativeStatsView(this)

  readonly reception: ReceptionView = new NativeReceptionView(this)

  takeReport() {
    if (!this.#closed) this.#native.takeReport(this.leg, this.#report)
    const [ssrc, fractionLost, cumulativeLost, extendedHighestSeq, jitter] = this.#report
    return { ssrc, fractionLost, cumulativeLost, extendedHighestSeq, jitter }
  }
}

/** A leg's MediaLegStats read from the addon when asked (getters on the prototype). */
class NativeStatsView implements MediaLegStats {
  readonly #state: NativeLegState
  constructor(state: NativeLegState) {
    this.#state = state
  }
  get packetsReceived() {
    return this.#state.read(0)
  }
  get packetsSent() {
    return this.#state.read(3)
  }
  get packetsRejected() {
    return this.#state.read(1)
  }
  get sendFailures() {
    return this.#state.read(14)
  }
  /** The counters as a plain object: JSON leaves out getters on a prototype. */
  toJSON(): MediaLegStats {
    const { packetsReceived, packetsSent, packetsRejected, sendFailures } = this
    return { packetsReceived, packetsSent, packetsRejected, sendFailures }
  }
}

/** A leg's reception statistics read from the addon when asked. */
class NativeReceptionView implements ReceptionView {
  readonly #state: NativeLegState
  constructor(state: NativeLegState) {
    this.#state = state
  }
  get expected() {
    return this.#state.read(6)
  }
  get lost() {
    return this.#state.read(7)
  }
  get received() {
    return this.#state.read(8)
  }
  get lossFraction() {
    const expected = this.#state.read(6)
    return expected > 0 ? this.#state.read(7) / expected : 0
  }
  get jitterMs() {
    return this.#state.read(9)
  }
  get ssrc() {
    return this.#state.read(10)
  }
  takeReport() {
    return this.#state.takeReport()
  }
}
