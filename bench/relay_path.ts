/*
 * The relay's own per-packet work, in process, without the network: one real call (our
 * WeriftMediaEngine: a browser leg with ICE + DTLS-SRTP done by werift against a second
 * WeriftWebRtcLeg in this process, and an RTP leg) bridged, then packets handed straight to the
 * relay's sockets' 'message' listeners and their sends counted instead of sent. What remains is
 * exactly our packet path: the RFC 7983 demultiplexing, SRTP unprotect / protect, reception
 * statistics, the bridge, the header rewrite; not the system calls, libuv or the event loop that
 * bench/media_relay.ts (and the bare Node relay) also pay. Much steadier than the network
 * benchmark on a loaded machine: CPU time of one thread in a tight loop. Also the bytes our path
 * allocates in V8's young generation per packet, each direction (bench/support/gc_window.ts).
 *
 *   node --import @poppinss/ts-exec bench/relay_path.ts [--packets 20000] [--rounds 7] [--profile 1|7]
 *     [--heap-prof FILE]  sampled allocations of the rounds, collected objects included (.heapprofile)
 */
import dgram from 'node:dgram'
import { WeriftMediaEngine, WeriftWebRtcLeg } from '#media'
import { PacketKind } from '#media/rtp_header'
import { writeFileSync } from 'node:fs'
import { gcWindow, startHeapSampling } from './support/gc_window.ts'
import { option } from './support/options.ts'

const PACKETS = Number(option('packets', '20000'))
const ROUNDS = Number(option('rounds', '7'))
const PROFILE = Number(option('profile', '1'))
const HEAP_PROF_FILE = option('heap-prof', '')
const LOCALHOST = '127.0.0.1'
const RELAY_WEBRTC_PORTS: [number, number] = [51000, 51099]
const BROWSER_PORTS: [number, number] = [51100, 51102]

// Every socket this process binds, to find the relay's and the browser's by port
const sockets: dgram.Socket[] = []
const bind = dgram.Socket.prototype.bind
dgram.Socket.prototype.bind = function (this: dgram.Socket, ...args: unknown[]) {
  sockets.push(this)
  return (bind as (...a: unknown[]) => dgram.Socket).apply(this, args)
} as typeof dgram.Socket.prototype.bind

const boundTo = (from: number, to: number) =>
  sockets.filter((socket) => {
    try {
      const port = socket.address().port
      return port >= from && port <= to
    } catch {
      return false
    }
  })

function median(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

/** Replaces `send` on the sockets by `capture` until the returned function is called. */
function stubSend(targets: dgram.Socket[], capture: (packet: Buffer) => void) {
  const originals = targets.map((socket) => socket.send)
  for (const socket of targets) {
    socket.send = ((packet: Buffer) => capture(packet)) as typeof socket.send
  }
  return () => targets.forEach((socket, i) => (socket.send = originals[i]))
}

async function main() {
  const engine = new WeriftMediaEngine({
    announcedIps: [LOCALHOST],
    webrtcPorts: RELAY_WEBRTC_PORTS,
    rtpPorts: [51200, 51299],
    mediaTimeoutSeconds: 30,
  })
  const browser = new WeriftWebRtcLeg({
    announcedIps: [LOCALHOST],
    portRange: BROWSER_PORTS,
    srtpProfiles: [PROFILE],
  })
  const carrier = dgram.createSocket('udp4')
  await new Promise<void>((resolve) => carrier.bind(0, LOCALHOST, resolve))
  const carrierPort = carrier.address().port

  const offer = await browser.createOffer({ codecs: ['PCMU'], dtmf: false })
  const webrtc = await engine.createWebRtcLeg()
  const rtp = await engine.createRtpLeg({ near: webrtc })
  await rtp.answer(
    [
      'v=0',
      'o=- 1 1 IN IP4 127.0.0.1',
      's=-',
      'c=IN IP4 127.0.0.1',
      't=0 0',
      `m=audio ${carrierPort} RTP/AVP 0`,
      'a=rtpmap:0 PCMU/8000',
      'a=sendrecv',
      '',
    ].join('\r\n'),
    { codecs: ['PCMU'], dtmf: false }
  )
  const { sdp } = await webrtc.answer(offer, { codecs: ['PCMU'] })
  await browser.applyAnswer(sdp)
  await Promise.all([webrtc.ready(), browser.ready()])
  const bridge = engine.bridge(webrtc, rtp)

  const relayIce = boundTo(...RELAY_WEBRTC_PORTS)
  const browserIce = boundTo(...BROWSER_PORTS)
  const relayRtp = boundTo(rtp.localPort, rtp.localPort)[0]
  const browserAddress = browserIce.map((socket) => socket.address())[0]
  const rtpPacket = (seq: number) => {
    const packet = Buffer.alloc(12 + 160, 0xd5)
    packet[0] = 0x80
    packet[1] = 0
    packet.writeUInt16BE(seq & 0xffff, 2)
    packet.writeUInt32BE((seq * 160) >>> 0, 4)
    packet.writeUInt32BE(0x5eed, 8)
    return packet
  }

  let browserSeq = 1
  let carrierSeq = 1
  let sent = 0
  const result = { browserToCarrier: [] as number[], carrierToBrowser: [] as number[] }
  const bytes = { browserToCarrier: [] as number[], carrierToBrowser: [] as number[] }
  const stopHeapSampling = HEAP_PROF_FILE ? await startHeapSampling() : null
  for (let round = 0; round < ROUNDS; round++) {
    // SRTP packets from the browser, made before the clock starts (unprotect works in place)
    const fromBrowser: Buffer[] = []
    const restoreBrowser = stubSend(browserIce, (packet) => fromBrowser.push(packet))
    for (let i = 0; i < PACKETS; i++) {
      browser.sendRelayed(rtpPacket(browserSeq++), 172, 12, PacketKind.Audio)
    }
    restoreBrowser()
    const fromCarrier = Array.from({ length: PACKETS }, () => rtpPacket(carrierSeq++))
    const rinfoBrowser = {
      address: browserAddress.address,
      port: browserAddress.port,
      family: 'IPv4',
      size: 182,
    }
    const rinfoCarrier = { address: LOCALHOST, port: carrierPort, family: 'IPv4', size: 172 }
    const relayIceSocket = relayIce.find((socket) => socket.listenerCount('message') > 0)!

    const restore = stubSend([...relayIce, relayRtp], () => sent++)
    const before = bridge.relayed.aToB + bridge.relayed.bToA
    let gc = gcWindow()
    let cpu = process.cpuUsage()
    for (const packet of fromBrowser) relayIceSocket.emit('message', packet, rinfoBrowser)
    let used = process.cpuUsage(cpu)
    bytes.browserToCarrier.push(gc().youngAllocatedBytes / PACKETS)
    result.browserToCarrier.push((used.user + used.system) / PACKETS)
    gc = gcWindow()
    cpu = process.cpuUsage()
    for (const packet of fromCarrier) relayRtp.emit('message', packet, rinfoCarrier)
    used = process.cpuUsage(cpu)
    bytes.carrierToBrowser.push(gc().youngAllocatedBytes / PACKETS)
    result.carrierToBrowser.push((used.user + used.system) / PACKETS)
    restore()
    const relayed = bridge.relayed.aToB + bridge.relayed.bToA - before
    if (relayed !== 2 * PACKETS) throw new Error(`relayed ${relayed} of ${2 * PACKETS}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  if (stopHeapSampling) writeFileSync(HEAP_PROF_FILE, JSON.stringify(await stopHeapSampling()))
  const toB = median(result.browserToCarrier)
  const toC = median(result.carrierToBrowser)
  console.log(
    JSON.stringify(
      {
        node: process.version,
        srtpProfile: PROFILE === 7 ? 'AEAD_AES_128_GCM' : 'AES_CM_128_HMAC_SHA1_80',
        packetsPerRound: PACKETS,
        rounds: ROUNDS,
        sendsCounted: sent,
        usPerPacket: {
          browserToCarrier: Number(toB.toFixed(2)),
          carrierToBrowser: Number(toC.toFixed(2)),
          mean: Number(((toB + toC) / 2).toFixed(2)),
        },
        youngBytesPerPacket: {
          browserToCarrier: Math.round(median(bytes.browserToCarrier)),
          carrierToBrowser: Math.round(median(bytes.carrierToBrowser)),
        },
        runs: {
          browserToCarrier: result.browserToCarrier.map((v) => Number(v.toFixed(2))),
          carrierToBrowser: result.carrierToBrowser.map((v) => Number(v.toFixed(2))),
        },
      },
      null,
      2
    )
  )
  bridge.close()
  await Promise.all([webrtc.close(), rtp.close(), browser.close()])
  carrier.close()
  await engine.close()
  process.exit(0)
}

await main()
