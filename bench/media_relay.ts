/*
 * Media relay cost: N concurrent calls, browser (WebRTC: ICE + DTLS-SRTP) <-> carrier (plain RTP),
 * PCMU 20 ms = 50 packets/s per direction per call. This process is the relay; a forked process
 * is the load generator (its browser side uses werift for ICE/DTLS and our SRTP transform, its
 * carrier side plain UDP). Measured per relay mode, in the same run:
 *
 *   bare        dgram in, dgram out, no crypto: the floor for Node
 *   bare-connected  the same on connected sockets (socket.connect to the peer: no address per
 *               send, the kernel's route kept on the socket): what connected sockets would save
 *   werift      werift 0.25.2 as published: track.onReceiveRtp -> UDP, UDP -> sender.sendRtp
 *   engine      our media engine (WeriftMediaEngine bridge), SRTP AES_CM_128_HMAC_SHA1_80, its
 *               default packet path: C++ (packages/media/native) where built, else TypeScript
 *   engine-gcm  the same with AEAD_AES_128_GCM (what Chromium tends to pick as DTLS server)
 *   engine-ts   the engine on its TypeScript packet path (MEDIA_PACKET_PATH=typescript), AES-CM
 *   engine-ts-gcm  the same with GCM
 *   workers-N   our engine in N worker processes (WorkerMediaEngine, MEDIA_WORKERS=N), AES-CM;
 *               modes added by --workers N[,M...]: CPU is this process's (signalling only) plus
 *               the workers' own (/proc/<pid>/stat, 10 ms ticks); relayed packets are what the
 *               load generator received in the window (the workers report their counters only
 *               every 250 ms)
 *   rtpengine-direct  rtpengine (user space) with one rtpengine call per browser/carrier pair:
 *               what rtpengine costs on its own
 *   rtpengine   our RtpengineMediaEngine (MEDIA_ENGINE=rtpengine): one rtpengine call per leg,
 *               so each packet crosses rtpengine twice
 * The two rtpengine modes run when `rtpengine` is installed: the benchmark starts it (user space,
 * loopback, ng on 127.0.0.1:2249, media 38000-39999) and measures rtpengine's own CPU
 * (/proc/<pid>/stat, 10 ms ticks) plus ours; their packet counts come from `query` at the window's
 * edges (a few ms of rtpengine CPU per window, counted in).
 *
 * Per mode: calls set up once, the idle seconds, a warm-up with media (default 10 s: in its first
 * seconds of media the engine runs JavaScript V8 has not optimised yet, some 10-25 % dearer per
 * packet than later; 1 s until 2026-12-04), then 5 windows; each window reports the relay's CPU
 * (process.cpuUsage, user + system) per relayed packet, loss and the one-way latency browser ->
 * carrier and back as seen by the load generator (same clock). Medians of the 5 windows.
 * Also an in-process micro figure: SRTP protect + unprotect per packet, werift's vs ours.
 *
 *   node --import @poppinss/ts-exec bench/media_relay.ts [--calls 50] [--window 2] [--modes bare,bare-connected,werift,engine,engine-gcm,rtpengine-direct,rtpengine] [--workers 1,2]
 *     [--cpu-prof DIR]   CPU profiles of this process per mode: DIR/<mode>.cpuprofile (the windows)
 *                        and DIR/<mode>-idle.cpuprofile (the idle seconds)
 *     [--cpu-prof-interval 200]  the profiles' sampling interval in us (the idle seconds have
 *                        few samples at the default: ~35 ms of CPU per second at 50 calls)
 *     [--idle 4]         seconds with the calls connected and silent before the media: the relay's
 *                        CPU per call per second then (idleUsPerCallSecond; 0 skips it)
 *     [--warmup 10]      seconds of media before the first window
 *     [--heap-prof DIR]  sampled allocations of this process in the windows, collected objects
 *                        included: DIR/<mode>.heapprofile (Chrome DevTools' format)
 *     [--heap-prof-interval 4096]  mean bytes between two samples (256 slowed the relay enough
 *                        to lose half the packets at 50 calls)
 *     [--gc]             garbage collection in the windows (v8.GCProfiler): scavenges and
 *                        mark-compacts per second, GC time per relayed packet, and the bytes
 *                        allocated in the young generation per relayed packet (its used size
 *                        before each GC less after the previous one; old-space and off-heap
 *                        allocations such as Buffer backing stores not counted)
 */
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import dgram from 'node:dgram'
import { once } from 'node:events'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { RTCPeerConnection, RTCRtpCodecParameters, RtpHeader, RtpPacket, SrtpSession } from 'werift'
import {
  NgClient,
  RtpengineMediaEngine,
  WeriftMediaEngine,
  WeriftWebRtcLeg,
  WorkerMediaEngine,
  type MediaEngine,
  createSrtpContext,
  type MediaBridge,
} from '#media'
import type RtpengineLeg from '#media/rtpengine/rtpengine_leg'
import { gcWindow, startHeapSampling, type GcWindow } from './support/gc_window.ts'
// The packet kind of an injected packet is internal to the relay path: the benchmark reaches in.
import { PacketKind } from '#media/rtp_header'
import { loadNativePacketPath, nativeUnavailable } from '#media/native_packet_path'
import { option } from './support/options.ts'

type Mode =
  | 'bare'
  | 'bare-connected'
  | 'werift'
  | 'engine'
  | 'engine-gcm'
  | 'engine-ts'
  | 'engine-ts-gcm'
  | 'rtpengine-direct'
  | 'rtpengine'
  | `workers-${number}`

const CALLS = Number(option('calls', '50'))
const WINDOW_S = Number(option('window', '2'))
const WINDOWS = 5
const HAS_RTPENGINE = spawnSync('sh', ['-c', 'command -v rtpengine']).status === 0
const WORKER_COUNTS = option('workers', '').split(',').filter(Boolean).map(Number)
const MODES = [
  ...option(
    'modes',
    `bare,werift,engine,engine-gcm,engine-ts,engine-ts-gcm${HAS_RTPENGINE ? ',rtpengine-direct,rtpengine' : ''}`
  ).split(','),
  ...WORKER_COUNTS.map((count) => `workers-${count}`),
] as Mode[]
/** Directory for a CPU profile of this process per mode, its measured windows only. */
const CPU_PROF_DIR = option('cpu-prof', '')
const HEAP_PROF_DIR = option('heap-prof', '')
const HEAP_PROF_INTERVAL = Number(option('heap-prof-interval', '4096'))
const CPU_PROF_INTERVAL_US = Number(option('cpu-prof-interval', '200'))
/** Seconds of the calls connected but silent before the media starts: the per-call fixed cost. */
const IDLE_S = Number(option('idle', '4'))
/** Seconds of media before the first measured window (the JIT settles on the packet path). */
const WARMUP_S = Number(option('warmup', '10'))
const GC_STATS = process.argv.includes('--gc')
const RTPENGINE_NG = { host: '127.0.0.1', port: 2249 }
const LOCALHOST = '127.0.0.1'

function median(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted.length === 0 ? Number.NaN : sorted[Math.floor(sorted.length / 2)]
}

function percentile(values: number[], p: number) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted.length === 0
    ? Number.NaN
    : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Wall clock in ms shared by both processes (performance.now() has a per-process origin). */
const nowMs = () => performance.timeOrigin + performance.now()

interface CallOffer {
  /** SDP offer of the browser side (WebRTC modes) */
  offer?: string
  /** The load generator's carrier socket port (all modes) */
  carrierPort: number
  /** bare mode: the load generator's browser-side plain socket */
  browserPort?: number
}

interface CallAnswer {
  answer?: string
  /** Where the load generator's carrier sends */
  relayCarrierPort: number
  /** bare mode: where the browser side sends */
  relayBrowserPort?: number
}

// ---------------------------------------------------------------------------------------------
// Load generator (child process)
// ---------------------------------------------------------------------------------------------

async function loadGenerator() {
  const send = (message: unknown) => process.send!(message)
  let calls: {
    browser: WeriftWebRtcLeg | null
    browserSocket: dgram.Socket | null
    carrier: dgram.Socket
    relayCarrierPort: number
    relayBrowserPort: number
    seq: number
    ssrc: number
  }[] = []
  let timer: NodeJS.Timeout | null = null
  let window = { start: 0, end: Number.POSITIVE_INFINITY }
  let sent = 0
  let received = 0
  let latencies: number[] = []

  const onPayload = (payload: Buffer, offset: number) => {
    const sentAt = payload.readDoubleBE(offset)
    if (sentAt >= window.start && sentAt < window.end) {
      received++
      latencies.push(nowMs() - sentAt)
    }
  }

  const packet = (call: (typeof calls)[number]) => {
    const buf = Buffer.alloc(12 + 160, 0xff)
    buf[0] = 0x80
    buf[1] = 0
    buf.writeUInt16BE(call.seq & 0xffff, 2)
    buf.writeUInt32BE((call.seq * 160) >>> 0, 4)
    buf.writeUInt32BE(call.ssrc, 8)
    call.seq++
    const at = nowMs()
    buf.writeDoubleBE(at, 12)
    if (at >= window.start && at < window.end) sent++
    return buf
  }

  process.on(
    'message',
    async (message: {
      cmd: string
      mode?: Mode
      answers?: CallAnswer[]
      start?: number
      end?: number
    }) => {
      if (message.cmd === 'prepare') {
        const mode = message.mode!
        const offers: CallOffer[] = []
        for (let i = 0; i < CALLS; i++) {
          const carrier = dgram.createSocket('udp4')
          carrier.bind(0, LOCALHOST)
          await once(carrier, 'listening')
          carrier.on('message', (buf) => onPayload(buf, 12))
          let browser: WeriftWebRtcLeg | null = null
          let browserSocket: dgram.Socket | null = null
          const offer: CallOffer = { carrierPort: carrier.address().port }
          if (mode === 'bare' || mode === 'bare-connected') {
            browserSocket = dgram.createSocket('udp4')
            browserSocket.bind(0, LOCALHOST)
            await once(browserSocket, 'listening')
            browserSocket.on('message', (buf) => onPayload(buf, 12))
            offer.browserPort = browserSocket.address().port
          } else {
            const base = 57000 + i * 3
            browser = new WeriftWebRtcLeg({
              announcedIps: [LOCALHOST],
              portRange: [base, base + 2],
              srtpProfiles: mode.endsWith('-gcm') ? [7] : [1],
            })
            browser.setReceiver((buf, _length, offset) => onPayload(buf, offset))
            offer.offer = await browser.createOffer({ codecs: ['PCMU'], dtmf: false })
          }
          calls.push({
            browser,
            browserSocket,
            carrier,
            relayCarrierPort: 0,
            relayBrowserPort: 0,
            seq: 1,
            ssrc: 1000 + i,
          })
          offers.push(offer)
        }
        send({ cmd: 'offers', offers })
      } else if (message.cmd === 'answers') {
        const answers = message.answers!
        await Promise.all(
          calls.map(async (call, i) => {
            call.relayCarrierPort = answers[i].relayCarrierPort
            call.relayBrowserPort = answers[i].relayBrowserPort ?? 0
            if (call.browser) {
              await call.browser.applyAnswer(answers[i].answer!)
              await call.browser.ready()
            }
          })
        )
        send({ cmd: 'connected' })
      } else if (message.cmd === 'start') {
        timer = setInterval(() => {
          for (const call of calls) {
            if (call.browser) {
              const buf = packet(call)
              call.browser.sendRelayed(buf, buf.length, 12, PacketKind.Audio)
            } else {
              call.browserSocket!.send(packet(call), call.relayBrowserPort, LOCALHOST)
            }
            call.carrier.send(packet(call), call.relayCarrierPort, LOCALHOST)
          }
        }, 20)
        send({ cmd: 'started' })
      } else if (message.cmd === 'window') {
        window = { start: message.start!, end: message.end! }
        sent = 0
        received = 0
        latencies = []
        send({ cmd: 'window-set' })
      } else if (message.cmd === 'report') {
        send({
          cmd: 'report',
          sent,
          received,
          latencyMedianMs: median(latencies),
          latencyP99Ms: percentile(latencies, 0.99),
        })
      } else if (message.cmd === 'stop') {
        if (timer) clearInterval(timer)
        for (const call of calls) {
          call.carrier.close()
          call.browserSocket?.close()
          await call.browser?.close()
        }
        calls = []
        send({ cmd: 'stopped' })
      } else if (message.cmd === 'exit') {
        process.exit(0)
      }
    }
  )
  // Ends with the relay process, also when that one crashes (its IPC channel closes)
  process.once('disconnect', () => process.exit(0))
  send({ cmd: 'hello' })
}

// ---------------------------------------------------------------------------------------------
// Relay (this process)
// ---------------------------------------------------------------------------------------------

interface RelaySetup {
  answers: CallAnswer[]
  relayed(): number | Promise<number>
  /** CPU microseconds of another process doing the relaying (rtpengine), when there is one. */
  externalCpuUs?(): number
  /** Relayed packets are what the load generator received in the window (media workers). */
  relayedFromReport?: boolean
  close(): Promise<void>
  profile(): string
}

async function bindSocket() {
  const socket = dgram.createSocket('udp4')
  socket.bind(0, LOCALHOST)
  await once(socket, 'listening')
  return socket
}

async function setUpBare(offers: CallOffer[], connected = false): Promise<RelaySetup> {
  let relayed = 0
  const sockets: dgram.Socket[] = []
  const answers: CallAnswer[] = []
  for (const offer of offers) {
    const browserSide = await bindSocket()
    const carrierSide = await bindSocket()
    if (connected) {
      browserSide.connect(offer.browserPort!, LOCALHOST)
      carrierSide.connect(offer.carrierPort, LOCALHOST)
      await Promise.all([once(browserSide, 'connect'), once(carrierSide, 'connect')])
      browserSide.on('message', (buf) => {
        carrierSide.send(buf)
        relayed++
      })
      carrierSide.on('message', (buf) => {
        browserSide.send(buf)
        relayed++
      })
    } else {
      browserSide.on('message', (buf) => {
        carrierSide.send(buf, offer.carrierPort, LOCALHOST)
        relayed++
      })
      carrierSide.on('message', (buf) => {
        browserSide.send(buf, offer.browserPort!, LOCALHOST)
        relayed++
      })
    }
    sockets.push(browserSide, carrierSide)
    answers.push({
      relayBrowserPort: browserSide.address().port,
      relayCarrierPort: carrierSide.address().port,
    })
  }
  return {
    answers,
    relayed: () => relayed,
    profile: () => 'none',
    close: async () => {
      for (const socket of sockets) socket.close()
    },
  }
}

/** werift as published: its receive pipeline and sender.sendRtp, nothing of ours. */
async function setUpWerift(offers: CallOffer[]): Promise<RelaySetup> {
  let relayed = 0
  const pcs: RTCPeerConnection[] = []
  const sockets: dgram.Socket[] = []
  const answers: CallAnswer[] = []
  await Promise.all(
    offers.map(async (offer, i) => {
      const base = 53000 + i * 3
      const pc = new RTCPeerConnection({
        iceServers: [],
        icePortRange: [base, base + 2],
        iceAdditionalHostAddresses: [LOCALHOST],
        iceUseIpv6: false,
        codecs: {
          audio: [
            new RTCRtpCodecParameters({
              mimeType: 'audio/PCMU',
              clockRate: 8000,
              channels: 1,
              payloadType: 0,
            }),
          ],
        },
        headerExtensions: { audio: [] },
      })
      const socket = await bindSocket()
      // The track event fires inside setRemoteDescription
      pc.onTrack.subscribe((track) => {
        track.onReceiveRtp.subscribe((rtp) => {
          socket.send(rtp.serialize(), offer.carrierPort, LOCALHOST)
          relayed++
        })
      })
      await pc.setRemoteDescription({ type: 'offer', sdp: offer.offer! })
      const transceiver = pc.getTransceivers()[0]
      transceiver.setDirection('sendrecv')
      socket.on('message', (buf) => {
        transceiver.sender.sendRtp(buf).then(
          () => relayed++,
          () => {}
        )
      })
      await pc.setLocalDescription(await pc.createAnswer())
      if (pc.iceGatheringState !== 'complete') {
        await new Promise<void>((resolve) =>
          pc.iceGatheringStateChange.subscribe((s) => s === 'complete' && resolve())
        )
      }
      pcs.push(pc)
      sockets.push(socket)
      answers[i] = { answer: pc.localDescription!.sdp, relayCarrierPort: socket.address().port }
    })
  )
  return {
    answers,
    relayed: () => relayed,
    profile: () => {
      const dtls = pcs[0]?.dtlsTransports[0] as unknown as {
        srtp?: { config: { profile: number } }
      }
      return String(dtls?.srtp?.config.profile ?? '?')
    },
    close: async () => {
      for (const socket of sockets) socket.close()
      await Promise.all(pcs.map((pc) => pc.close()))
    },
  }
}

/** CPU of processes of ours other than this one (media workers), microseconds so far. */
function processCpuUs(pid: number) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100
}

async function setUpEngine(
  offers: CallOffer[],
  workers = 0,
  packetPath: 'native' | 'typescript' = 'native'
): Promise<RelaySetup> {
  if (packetPath === 'native' && loadNativePacketPath() === null)
    throw new Error(`The C++ packet path is not available: ${nativeUnavailable()}`)
  const config = {
    packetPath,
    announcedIps: [LOCALHOST],
    webrtcPorts: [53000, 54999] as [number, number],
    rtpPorts: [55000, 56999] as [number, number],
    // Past the silent seconds of --idle, or the bridges end for lack of media before the windows
    mediaTimeoutSeconds: 30 + IDLE_S,
  }
  const engine: MediaEngine =
    workers > 0 ? new WorkerMediaEngine({ ...config, workers }) : new WeriftMediaEngine(config)
  const pool = engine instanceof WorkerMediaEngine ? engine : null
  await pool?.started()
  const bridges: MediaBridge[] = []
  const answers: CallAnswer[] = []
  await Promise.all(
    offers.map(async (offer, i) => {
      const webrtc = await engine.createWebRtcLeg()
      const rtp = await engine.createRtpLeg({ near: webrtc })
      const carrierOffer = [
        'v=0',
        'o=- 1 1 IN IP4 127.0.0.1',
        's=-',
        'c=IN IP4 127.0.0.1',
        't=0 0',
        `m=audio ${offer.carrierPort} RTP/AVP 0`,
        'a=rtpmap:0 PCMU/8000',
        'a=sendrecv',
        '',
      ].join('\r\n')
      const carrier = await rtp.answer(carrierOffer, { codecs: ['PCMU'], dtmf: false })
      const { sdp } = await webrtc.answer(offer.offer!, { codecs: [carrier.media.audio.codec] })
      bridges.push(engine.bridge(webrtc, rtp))
      answers[i] = { answer: sdp, relayCarrierPort: rtp.localPort }
    })
  )
  return {
    answers,
    relayed: () =>
      bridges.reduce((sum, bridge) => sum + bridge.relayed.aToB + bridge.relayed.bToA, 0),
    externalCpuUs: pool
      ? () => pool.workers.reduce((sum, worker) => sum + processCpuUs(worker.pid!), 0)
      : undefined,
    relayedFromReport: pool !== null,
    // The load generator offers only the profile under test
    profile: () => 'as offered',
    close: async () => {
      for (const bridge of bridges) bridge.close()
      await engine.close()
    },
  }
}

// ---------------------------------------------------------------------------------------------
// rtpengine (started here when installed)
// ---------------------------------------------------------------------------------------------

let rtpengine: ChildProcess | null = null

async function startRtpengine() {
  if (rtpengine) return
  // Not left running when the bench ends early (an exception, Ctrl-C ends without 'exit')
  process.once('exit', () => rtpengine?.kill('SIGTERM'))
  process.once('SIGINT', () => process.exit(130))
  rtpengine = spawn(
    'rtpengine',
    [
      '--config-file=none',
      '--table=-1',
      '--interface=127.0.0.1',
      `--listen-ng=127.0.0.1:${RTPENGINE_NG.port}`,
      '--port-min=38000',
      '--port-max=39999',
      '--delete-delay=0',
      '--foreground',
      '--log-stderr',
      '--log-level=3',
    ],
    { stdio: 'ignore' }
  )
  const ng = new NgClient({ ...RTPENGINE_NG, timeoutMs: 300 })
  for (let attempt = 0; ; attempt++) {
    try {
      await ng.command('ping')
      break
    } catch (error) {
      if (attempt > 20) throw error
    }
  }
  ng.close()
}

/** rtpengine's CPU so far (user + system), microseconds. */
function rtpengineCpuUs() {
  const fields = readFileSync(`/proc/${rtpengine!.pid}/stat`, 'utf8').split(') ')[1].split(' ')
  // utime and stime are fields 14 and 15 of stat, in clock ticks (100 per second on Linux)
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100
}

function carrierSdp(port: number) {
  return [
    'v=0',
    'o=- 1 1 IN IP4 127.0.0.1',
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=audio ${port} RTP/AVP 0`,
    'a=rtpmap:0 PCMU/8000',
    'a=sendrecv',
    '',
  ].join('\r\n')
}

/** One rtpengine call per pair: the browser's offer in, the carrier's answer back. */
async function setUpRtpengineDirect(offers: CallOffer[]): Promise<RelaySetup> {
  await startRtpengine()
  const ng = new NgClient(RTPENGINE_NG)
  const answers: CallAnswer[] = []
  const callIds = offers.map((_offer, i) => `bench-direct-${process.pid}-${i}`)
  await Promise.all(
    offers.map(async (offer, i) => {
      const common = { 'call-id': callIds[i], 'from-tag': 'browser' }
      const toCarrier = await ng.command('offer', {
        ...common,
        'sdp': offer.offer!,
        'transport-protocol': 'RTP/AVP',
        'ICE': 'remove',
        'rtcp-mux': ['demux'],
        'flags': ['full-rtcp-attribute'],
      })
      const relayCarrierPort = Number(/m=audio (\d+)/.exec(String(toCarrier.sdp))![1])
      const toBrowser = await ng.command('answer', {
        ...common,
        'to-tag': 'carrier',
        'sdp': carrierSdp(offer.carrierPort),
        'flags': ['full-rtcp-attribute'],
      })
      answers[i] = { answer: String(toBrowser.sdp), relayCarrierPort }
    })
  )
  const packets = async () => {
    let sum = 0
    for (const callId of callIds) {
      const reply = await ng.command('query', { 'call-id': callId })
      sum += Number((reply.totals as { RTP?: { packets?: number } })?.RTP?.packets ?? 0)
    }
    return sum
  }
  return {
    answers,
    relayed: packets,
    externalCpuUs: rtpengineCpuUs,
    profile: () => 'rtpengine picks',
    close: async () => {
      for (const callId of callIds) await ng.command('delete', { 'call-id': callId })
      ng.close()
    },
  }
}

/** Our RtpengineMediaEngine: each leg its own rtpengine call, bridged through loopback. */
async function setUpRtpengineEngine(offers: CallOffer[]): Promise<RelaySetup> {
  await startRtpengine()
  const engine = new RtpengineMediaEngine({
    ng: RTPENGINE_NG,
    innerAddress: LOCALHOST,
    mediaTimeoutSeconds: 600,
  })
  const bridges: MediaBridge[] = []
  const legs: RtpengineLeg[] = []
  const answers: CallAnswer[] = []
  await Promise.all(
    offers.map(async (offer, i) => {
      const webrtc = await engine.createWebRtcLeg()
      const rtp = await engine.createRtpLeg()
      const carrier = await rtp.answer(carrierSdp(offer.carrierPort), {
        codecs: ['PCMU'],
        dtmf: false,
      })
      const { sdp } = await webrtc.answer(offer.offer!, { codecs: [carrier.media.audio.codec] })
      const bridge = engine.bridge(webrtc, rtp)
      await (bridge as unknown as { settled(): Promise<void> }).settled()
      bridges.push(bridge)
      legs.push(webrtc as unknown as RtpengineLeg, rtp as unknown as RtpengineLeg)
      answers[i] = { answer: sdp, relayCarrierPort: rtp.localPort }
    })
  )
  return {
    answers,
    // What entered from the peers, each packet once (it is counted again on the inner side)
    relayed: async () => {
      let sum = 0
      for (const leg of legs) {
        const stats = await leg.readStats()
        if (stats && stats !== 'gone') sum += stats.packetsReceived
      }
      return sum
    },
    externalCpuUs: rtpengineCpuUs,
    profile: () => 'rtpengine picks',
    close: async () => {
      for (const bridge of bridges) bridge.close()
      await engine.close()
    },
  }
}

/** SRTP protect + unprotect of one 172-byte packet: werift's SrtpSession vs our context. */
function srtpMicro() {
  const result: Record<string, number> = {}
  const iterations = 20_000
  for (const [name, profile, id] of [
    ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_80', 1],
    ['AEAD_AES_128_GCM', 'AEAD_AES_128_GCM', 7],
  ] as const) {
    const key = randomBytes(16)
    const salt = randomBytes(id === 7 ? 12 : 14)
    const werift = new SrtpSession({
      keys: {
        localMasterKey: key,
        localMasterSalt: salt,
        remoteMasterKey: key,
        remoteMasterSalt: salt,
      },
      profile: id,
    })
    const sender = createSrtpContext(profile, key, salt)
    const receiver = createSrtpContext(profile, key, salt)
    const payload = randomBytes(160)
    const timeIt = (fn: (i: number) => void) => {
      for (let i = 0; i < 2000; i++) fn(i)
      const start = process.hrtime.bigint()
      for (let i = 2000; i < 2000 + iterations; i++) fn(i)
      return Number(process.hrtime.bigint() - start) / iterations / 1000
    }
    result[`werift ${name} us`] = Number(
      timeIt((i) => {
        const header = new RtpHeader({
          payloadType: 0,
          sequenceNumber: i & 0xffff,
          timestamp: i * 160,
          ssrc: 1,
        })
        werift.decrypt(werift.encrypt(payload, header))
      }).toFixed(2)
    )
    const plain = new RtpPacket(
      new RtpHeader({ payloadType: 0, sequenceNumber: 0, timestamp: 0, ssrc: 1 }),
      payload
    ).serialize()
    result[`ours ${name} us`] = Number(
      timeIt((i) => {
        plain.writeUInt16BE(i & 0xffff, 2)
        const encrypted = sender.protect(plain, plain.length, 12)
        receiver.unprotect(encrypted, encrypted.length, 12)
      }).toFixed(2)
    )
  }
  return result
}

function request(child: ChildProcess, message: object, reply: string) {
  return new Promise<any>((resolve) => {
    const listener = (answer: { cmd: string }) => {
      if (answer.cmd === reply) {
        child.off('message', listener)
        resolve(answer)
      }
    }
    child.on('message', listener)
    child.send(message)
  })
}

async function runMode(child: ChildProcess, mode: Mode) {
  const { offers } = await request(child, { cmd: 'prepare', mode }, 'offers')
  const setupStart = Date.now()
  const setupCpu = process.cpuUsage()
  const relay =
    mode === 'bare'
      ? await setUpBare(offers)
      : mode === 'bare-connected'
        ? await setUpBare(offers, true)
        : mode === 'werift'
          ? await setUpWerift(offers)
          : mode === 'rtpengine-direct'
            ? await setUpRtpengineDirect(offers)
            : mode === 'rtpengine'
              ? await setUpRtpengineEngine(offers)
              : mode.startsWith('workers-')
                ? await setUpEngine(offers, Number(mode.slice('workers-'.length)))
                : await setUpEngine(
                    offers,
                    0,
                    mode.startsWith('engine-ts') ? 'typescript' : 'native'
                  )
  await request(child, { cmd: 'answers', answers: relay.answers }, 'connected')
  const setupMs = Date.now() - setupStart
  const setupUsage = process.cpuUsage(setupCpu)
  // This process's CPU to set up the calls: for the WebRTC side ICE, the DTLS handshake and the
  // SRTP keys. Only where this process does it all (workers and rtpengine start during set-up).
  const setupCpuMsPerCall = relay.externalCpuUs
    ? null
    : Number(((setupUsage.user + setupUsage.system) / 1000 / offers.length).toFixed(2))
  // Connected calls without media: timers, ICE consent, RTCP (what every call pays per second)
  await sleep(500)
  const idleInspector = CPU_PROF_DIR && IDLE_S > 0 ? new Session() : null
  if (idleInspector) {
    idleInspector.connect()
    await idleInspector.post('Profiler.enable')
    await idleInspector.post('Profiler.setSamplingInterval', { interval: CPU_PROF_INTERVAL_US })
    await idleInspector.post('Profiler.start')
  }
  const idleExternal = relay.externalCpuUs?.() ?? 0
  const idleCpu = process.cpuUsage()
  await sleep(IDLE_S * 1000)
  const idleUsed = process.cpuUsage(idleCpu)
  const idleCpuUs = idleUsed.user + idleUsed.system + (relay.externalCpuUs?.() ?? 0) - idleExternal
  if (idleInspector) {
    const { profile: idleProfile } = await idleInspector.post('Profiler.stop')
    idleInspector.disconnect()
    writeFileSync(`${CPU_PROF_DIR}/${mode}-idle.cpuprofile`, JSON.stringify(idleProfile))
  }
  await request(child, { cmd: 'start' }, 'started')
  await sleep(WARMUP_S * 1000)
  const windows: {
    usPerPacket: number
    relayedPerSecond: number
    loss: number
    latencyMedianMs: number
    latencyP99Ms: number
    gc: (GcWindow & { relayed: number }) | null
  }[] = []
  const inspector = CPU_PROF_DIR ? new Session() : null
  const stopHeapSampling = HEAP_PROF_DIR ? await startHeapSampling(HEAP_PROF_INTERVAL) : null
  for (let w = 0; w < WINDOWS; w++) {
    if (inspector && w === 0) {
      inspector.connect()
      await inspector.post('Profiler.enable')
      await inspector.post('Profiler.setSamplingInterval', { interval: CPU_PROF_INTERVAL_US })
      await inspector.post('Profiler.start')
    }
    // The window opens a little later, once the load generator has reset its counters
    const start = nowMs() + 100
    const end = start + WINDOW_S * 1000
    await request(child, { cmd: 'window', start, end }, 'window-set')
    await sleep(Math.max(0, start - nowMs()))
    const relayedBefore = await relay.relayed()
    const externalBefore = relay.externalCpuUs?.() ?? 0
    const stopGc = GC_STATS ? gcWindow() : null
    const cpuBefore = process.cpuUsage()
    await sleep(WINDOW_S * 1000)
    const cpu = process.cpuUsage(cpuBefore)
    const gc = stopGc?.() ?? null
    const external = (relay.externalCpuUs?.() ?? 0) - externalBefore
    const counted = (await relay.relayed()) - relayedBefore
    await sleep(150) // packets sent at the end of the window are still in flight
    const report = await request(child, { cmd: 'report' }, 'report')
    const relayed = relay.relayedFromReport ? report.received : counted
    windows.push({
      usPerPacket: (cpu.user + cpu.system + external) / relayed,
      relayedPerSecond: relayed / WINDOW_S,
      loss: report.sent === 0 ? 1 : 1 - report.received / report.sent,
      latencyMedianMs: report.latencyMedianMs,
      latencyP99Ms: report.latencyP99Ms,
      // Per packet this process relayed in the window (counted, not the generator's report)
      gc: gc && { ...gc, relayed: counted },
    })
  }
  if (inspector) {
    const { profile: cpuProfile } = await inspector.post('Profiler.stop')
    inspector.disconnect()
    writeFileSync(`${CPU_PROF_DIR}/${mode}.cpuprofile`, JSON.stringify(cpuProfile))
  }
  if (stopHeapSampling) {
    const heapProfile = await stopHeapSampling()
    writeFileSync(`${HEAP_PROF_DIR}/${mode}.heapprofile`, JSON.stringify(heapProfile))
  }
  const profile = relay.profile()
  await request(child, { cmd: 'stop' }, 'stopped')
  await relay.close()
  const us = median(windows.map((w) => w.usPerPacket))
  return {
    mode,
    srtpProfile:
      mode === 'werift'
        ? profile
        : mode === 'engine' || mode === 'engine-ts' || mode.startsWith('workers-')
          ? '1 (AES-CM)'
          : mode === 'engine-gcm' || mode === 'engine-ts-gcm'
            ? '7 (GCM)'
            : mode.startsWith('rtpengine')
              ? 'rtpengine picks (AES-CM offered)'
              : 'none',
    setupMs,
    setupCpuMsPerCall,
    idleUsPerCallSecond: IDLE_S > 0 ? Math.round(idleCpuUs / IDLE_S / offers.length) : null,
    usPerRelayedPacket: Number(us.toFixed(1)),
    usPerPacketRuns: windows.map((w) => Number(w.usPerPacket.toFixed(1))),
    // One call = 100 relayed packets/s (50 each way)
    callsPerCore: Math.round(1e6 / (us * 100)),
    relayedPerSecond: Math.round(median(windows.map((w) => w.relayedPerSecond))),
    lossPercent: Number((median(windows.map((w) => w.loss)) * 100).toFixed(3)),
    latencyMedianMs: Number(median(windows.map((w) => w.latencyMedianMs)).toFixed(2)),
    latencyP99Ms: Number(median(windows.map((w) => w.latencyP99Ms)).toFixed(2)),
    gc: GC_STATS ? gcSummary(windows, relay.relayedFromReport === true) : undefined,
  }
}

/** This process's CPU per relayed packet by thread name, over all windows. */
function threadsPerPacket(measured: GcWindow[], relayed: number, relayedElsewhere: boolean) {
  if (relayedElsewhere) return null
  const totals: Record<string, number> = {}
  for (const gc of measured) {
    for (const [name, us] of Object.entries(gc.threadCpuUs)) totals[name] = (totals[name] ?? 0) + us
  }
  return Object.fromEntries(
    Object.entries(totals)
      .filter(([, us]) => us > 0)
      .map(([name, us]) => [name, Number((us / relayed).toFixed(2))])
  )
}

/**
 * Over all windows together (a scavenge comes every second or two: a median of 2 s windows would
 * be 0 or 1): GC per second and per packet this process relayed.
 */
function gcSummary(
  windows: { gc: (GcWindow & { relayed: number }) | null }[],
  relayedElsewhere: boolean
) {
  const measured = windows.filter((w) => w.gc !== null).map((w) => w.gc!)
  const sum = (value: (gc: GcWindow & { relayed: number }) => number) =>
    measured.reduce((total, gc) => total + value(gc), 0)
  const seconds = measured.length * WINDOW_S
  const relayed = Math.max(
    1,
    sum((gc) => gc.relayed)
  )
  // Media workers relay in other processes: nothing per packet of this one
  const perPacket = (total: number, digits: number) =>
    relayedElsewhere ? null : Number((total / relayed).toFixed(digits))
  return {
    scavenges: sum((gc) => gc.scavenges),
    markCompacts: sum((gc) => gc.markCompacts),
    gcMsPerSecond: Number((sum((gc) => gc.costUs) / 1000 / seconds).toFixed(2)),
    gcUsPerPacket: perPacket(
      sum((gc) => gc.costUs),
      2
    ),
    youngBytesPerPacket: perPacket(
      sum((gc) => gc.youngAllocatedBytes),
      0
    ),
    threadUsPerPacket: threadsPerPacket(measured, relayed, relayedElsewhere),
  }
}

async function main() {
  const child = fork(
    fileURLToPath(import.meta.url),
    ['--role', 'loadgen', '--calls', String(CALLS)],
    {
      execArgv: ['--import', '@poppinss/ts-exec'],
    }
  )
  await new Promise<void>((resolve) => child.once('message', () => resolve()))
  const results = []
  for (const mode of MODES) results.push(await runMode(child, mode))
  child.send({ cmd: 'exit' })
  rtpengine?.kill('SIGTERM')
  const floor = results.find((r) => r.mode === 'bare')?.usPerRelayedPacket
  const rtpengineAlone = results.find((r) => r.mode === 'rtpengine-direct')?.usPerRelayedPacket
  const output = {
    calls: CALLS,
    packetsPerSecondPerDirection: 50,
    windowSeconds: WINDOW_S,
    windows: WINDOWS,
    node: process.version,
    rtpengine: HAS_RTPENGINE
      ? 'installed: user space (--table=-1), its CPU counted'
      : 'not installed',
    results: results.map((r) => ({
      ...r,
      vsBare: floor ? Number((r.usPerRelayedPacket / floor).toFixed(2)) : null,
      vsRtpengine: rtpengineAlone
        ? Number((r.usPerRelayedPacket / rtpengineAlone).toFixed(2))
        : null,
    })),
    srtpMicroPerPacket: srtpMicro(),
  }
  console.log(JSON.stringify(output, null, 2))
  await sleep(100)
  process.exit(0)
}

if (option('role', 'relay') === 'loadgen') {
  await loadGenerator()
} else {
  await main()
}
