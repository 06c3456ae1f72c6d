/*
 * What a call's two plain RTP legs cost to set up and take down, in process, on each packet path
 * (issue 17: the signalling-only call of bench/b2bua_calls.ts pays this part of the media engine
 * too). One "call": our WeriftMediaEngine opens a phone leg (latching) and a carrier leg (each
 * an RTP and an RTCP socket, bound), answers the phone's offer, offers to the carrier and applies
 * its answer, bridges them, reads both legs' quality, closes the bridge and the legs. No packet
 * is sent. CPU time of the process per call (user + system), rounds alternating the paths, so
 * the C++ path's share (the sockets handed to the addon and taken back) is the difference.
 *
 *   node --import @poppinss/ts-exec bench/media_legs.ts [--calls 1500] [--rounds 10] [--warmup 500]
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { WeriftMediaEngine } from '#media'
import { option } from './support/options.ts'

// A full collection before each round: a round pays for its own garbage, not the last one's
setFlagsFromString('--expose-gc')
const collect = runInNewContext('gc') as () => void

const CALLS = Number(option('calls', '1500'))
const ROUNDS = Number(option('rounds', '10'))
const WARMUP = Number(option('warmup', '500'))
const PATHS = ['typescript', 'native'] as const

function engineFor(path: (typeof PATHS)[number], ports: [number, number]) {
  return new WeriftMediaEngine({
    announcedIps: ['127.0.0.1'],
    rtpPorts: ports,
    webrtcPorts: [ports[1] + 1, ports[1] + 200],
    mediaTimeoutSeconds: 30,
    packetPath: path,
  })
}

const peerSdp = (port: number) =>
  [
    'v=0',
    'o=- 1 1 IN IP4 127.0.0.9',
    's=-',
    'c=IN IP4 127.0.0.9',
    't=0 0',
    `m=audio ${port} RTP/AVP 0 8 101`,
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=sendrecv',
    '',
  ].join('\r\n')

async function call(engine: WeriftMediaEngine) {
  const phone = await engine.createRtpLeg({ latching: true })
  const carrier = await engine.createRtpLeg({})
  await phone.answer(peerSdp(6000), { codecs: ['PCMU', 'PCMA'] })
  await carrier.createOffer({ codecs: ['PCMU', 'PCMA'] })
  await carrier.applyAnswer(peerSdp(7000))
  const bridge = engine.bridge(phone, carrier)
  if (phone.quality.packetsExpected + carrier.quality.packetsExpected !== 0)
    throw new Error('no packet was sent, none may be expected')
  bridge.close()
  await phone.close()
  await carrier.close()
}

const engines = {
  typescript: engineFor('typescript', [40000, 43999]),
  native: engineFor('native', [45000, 48999]),
}
if (engines.native.packetPath === null) {
  throw new Error('The C++ packet path is not built (bin/lib.sh build_native)')
}
for (const path of PATHS) for (let i = 0; i < WARMUP; i++) await call(engines[path])

const microseconds: Record<(typeof PATHS)[number], number[]> = { typescript: [], native: [] }
for (let round = 0; round < ROUNDS; round++) {
  // Alternating which path goes first, so a drift of the machine falls on both
  const order = round % 2 === 0 ? PATHS : [...PATHS].reverse()
  for (const path of order) {
    collect()
    const start = process.cpuUsage()
    for (let i = 0; i < CALLS; i++) await call(engines[path])
    const used = process.cpuUsage(start)
    microseconds[path].push(Math.round(((used.user + used.system) / CALLS) * 10) / 10)
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}
const ts = median(microseconds.typescript)
const native = median(microseconds.native)
console.log(
  JSON.stringify(
    {
      calls: CALLS,
      rounds: ROUNDS,
      cpuMicrosecondsPerCall: microseconds,
      medians: { typescript: ts, native },
      nativeExtraMicroseconds: Math.round((native - ts) * 10) / 10,
    },
    null,
    2
  )
)
process.exit(0)
