/*
 * Random and half-valid datagrams into legs of the C++ packet path: plain and SRTP (each
 * profile, two with an SDES MKI), linked in a ring, latching, handing RTP to JavaScript which sends it on, plus
 * JavaScript sends with odd arguments. Run by sanitize.sh on a build with AddressSanitizer and
 * UndefinedBehaviorSanitizer; not part of bin/test.
 *
 *   node --import @poppinss/ts-exec packages/media/native/fuzz.ts ADDON.node [seconds]
 */
import dgram from 'node:dgram'
import { once } from 'node:events'
import { createRequire } from 'node:module'
import { randomBytes, randomInt } from 'node:crypto'
import { resolve } from 'node:path'
import { handOver, type NativePacketPath } from '#media/native_packet_path'

const native = createRequire(import.meta.url)(resolve(process.argv[2])) as NativePacketPath
const seconds = Number(process.argv[3] ?? 15)
const LOCALHOST = '127.0.0.1'

async function socket() {
  const s = dgram.createSocket('udp4')
  s.bind(0, LOCALHOST)
  await once(s, 'listening')
  return s
}

let others = 0
let handed = 0
const legs: { socket: dgram.Socket; leg: number; port: number }[] = []
for (let i = 0; i < 6; i++) {
  const s = await socket()
  const leg = native.createLeg(() => others++)
  if (!handOver(native, leg, s, true)) throw new Error('no socket handle')
  legs.push({ socket: s, leg, port: s.address().port })
}
const peer = await socket()
const peerPort = peer.address().port
// 0 plain, 1 AES-CM-80, 2 AES-CM-32, 7 GCM
const profiles = [0, 1, 2, 7, 0, 7]
legs.forEach(({ leg }, i) => {
  const profile = profiles[i]
  const key = profile ? randomBytes(16) : null
  const salt = profile ? randomBytes(profile === 7 ? 12 : 14) : null
  native.configureReceive(
    leg,
    i % 2 === 0,
    LOCALHOST,
    peerPort,
    i === 4,
    profile,
    key,
    salt,
    0,
    101,
    8000,
    // An SDES MKI on the AES-CM-32 and GCM legs
    i === 2 || i === 3 ? Buffer.from([0, i]) : null
  )
  native.configureSend(leg, true, profile, key, salt, 0, 101, 8000, 1234, LOCALHOST, peerPort)
})
for (let i = 0; i < 4; i++) native.link(legs[i].leg, legs[(i + 1) % 4].leg, false)
native.setRtpHandler(legs[4].leg, (packet, length, offset, kind) => {
  handed++
  native.send(legs[5].leg, packet, length, offset, kind)
})

const end = Date.now() + seconds * 1000
let sent = 0
while (Date.now() < end) {
  for (let j = 0; j < 200; j++) {
    const length = randomInt(0, 1600)
    const data = randomBytes(length)
    if (length >= 12 && Math.random() < 0.7) {
      data[0] = 0x80 | (Math.random() < 0.3 ? randomInt(0, 64) : 0)
      data[1] = [0, 101, 8, 200, 96][randomInt(0, 5)]
    }
    peer.send(data, legs[randomInt(0, legs.length)].port, LOCALHOST)
    sent++
  }
  const data = randomBytes(randomInt(0, 300))
  try {
    native.send(
      legs[randomInt(0, 6)].leg,
      data,
      randomInt(-5, 400),
      randomInt(-5, 400),
      randomInt(0, 3)
    )
  } catch (error) {
    if (!(error instanceof TypeError)) throw error
  }
  if (Math.random() < 0.01) native.restart(legs[randomInt(0, 6)].leg)
  await new Promise((done) => setImmediate(done))
}
await new Promise((done) => setTimeout(done, 200))
const figures = new Float64Array(17)
for (const { leg, socket: s } of legs) {
  native.stats(leg, figures)
  console.log(`leg ${leg}: received ${figures[0]}, rejected ${figures[1]}, sent ${figures[3]}`)
  native.closeLeg(leg)
  s.close()
}
peer.close()
const [open, wakeups, datagrams] = native.counters()
console.log(
  `${sent} datagrams sent, ${datagrams} read in ${wakeups} wake-ups, ${others} to JavaScript as not RTP, ${handed} RTP handed over; ${open} legs open`
)
