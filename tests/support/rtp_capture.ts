import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { requireTool } from '#tests/support/sipp_runner'
import { wavHeader } from '#media/announcement'

/**
 * What crossed a UDP port on loopback, as tshark decoded it: packets are counted at the far
 * side of the call (sipp's media port), not by the code under test.
 */
export interface RtpPacket {
  /** Seconds since the epoch (tshark frame.time_epoch), comparable with Date.now() / 1000. */
  time: number
  fromPort: number
  toPort: number
  payloadType: number
  /** RFC 4733 fields for telephone-event packets. */
  event?: { id: number; end: boolean; duration: number }
  /** The RTP payload (audio bytes, or the event). */
  payload: Buffer
}

export interface RtpCapture {
  stop(): Promise<RtpPacket[]>
}

/** Starts tshark on the loopback interface for one UDP port; resolves once it captures. */
export async function captureRtp(port: number): Promise<RtpCapture> {
  requireTool('tshark', 'tshark')
  const directory = mkdtempSync(join(tmpdir(), 'fluffycall-rtp-'))
  const file = join(directory, 'capture.pcap')
  const child: ChildProcess = spawn(
    'tshark',
    ['-i', 'lo', '-f', `udp port ${port}`, '-w', file, '-q'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    }
  )
  let stderr = ''
  await new Promise<void>((resolve, reject) => {
    // tshark takes several seconds to start on a loaded machine (10 s were too few under CI load)
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`tshark did not start capturing within 30 s: ${stderr}`))
    }, 30_000)
    child.stderr!.on('data', (chunk) => {
      stderr += chunk
      if (stderr.includes('Capturing on')) {
        clearTimeout(timer)
        resolve()
      }
    })
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`tshark exited ${code}: ${stderr}`))
    })
  })
  let stopped: Promise<RtpPacket[]> | undefined
  // Stopping twice (a test, then its clean-up) gives the first stop's packets.
  return { stop: () => (stopped ??= stop()) }

  async function stop(): Promise<RtpPacket[]> {
    // Let the last packets reach the file, then stop tshark cleanly (unless it ended already).
    await new Promise((resolve) => setTimeout(resolve, 300))
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGINT')
      await exited
    }
    const fields = [
      'frame.time_epoch',
      'udp.srcport',
      'udp.dstport',
      'rtp.p_type',
      'rtpevent.event_id',
      'rtpevent.end_of_event',
      'rtpevent.duration',
      'rtp.payload',
    ]
    const decoded = spawnSync(
      'tshark',
      [
        '-r',
        file,
        '-d',
        `udp.port==${port},rtp`,
        '-Y',
        'rtp',
        '-T',
        'fields',
        '-E',
        'separator=,',
        ...fields.flatMap((field) => ['-e', field]),
      ],
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }
    )
    rmSync(directory, { recursive: true, force: true })
    if (decoded.status !== 0)
      throw new Error(`tshark could not read the capture: ${decoded.stderr}`)
    return decoded.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [time, from, to, type, eventId, end, duration, payload] = line.split(',')
        const packet: RtpPacket = {
          time: Number(time),
          fromPort: Number(from),
          toPort: Number(to),
          payloadType: Number(type),
          payload: Buffer.from((payload ?? '').replaceAll(':', ''), 'hex'),
        }
        if (eventId !== '')
          packet.event = {
            id: Number(eventId),
            end: end === '1' || end === 'True',
            duration: Number(duration),
          }
        return packet
      })
  }
}

/** Packets per second of one direction, over the given seconds after its first packet. */
export function packetRate(packets: RtpPacket[], skipSeconds = 1, windowSeconds = 3) {
  if (!packets.length) return 0
  const start = packets[0].time + skipSeconds
  const inWindow = packets.filter(
    (packet) => packet.time >= start && packet.time < start + windowSeconds
  )
  return inWindow.length / windowSeconds
}

/** A WAV file of an A-law (G.711) 440 Hz tone at 8 kHz, for sipp's rtp_stream. */
export function alawToneWav(seconds = 2): Buffer {
  const samples = 8000 * seconds
  const data = Buffer.alloc(samples)
  for (let index = 0; index < samples; index++) {
    data[index] = linearToAlaw(Math.round(8000 * Math.sin((2 * Math.PI * 440 * index) / 8000)))
  }
  // A-law (format 6), 8-bit, 8 kHz, mono
  const header = wavHeader(data.length, { code: 6, bits: 8 })
  return Buffer.concat([header, data])
}

/** ITU-T G.711 A-law encoding of one 16-bit sample. */
function linearToAlaw(sample: number) {
  const sign = sample >= 0 ? 0x80 : 0
  let magnitude = Math.min(Math.abs(sample), 32635)
  let exponent = 7
  for (let mask = 0x4000; (magnitude & mask) === 0 && exponent > 0; mask >>= 1) exponent--
  const mantissa = exponent === 0 ? (magnitude >> 4) & 0x0f : (magnitude >> (exponent + 3)) & 0x0f
  magnitude = (exponent << 4) | mantissa
  return (sign | magnitude) ^ 0x55
}
