import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { requireTool } from '#tests/support/sipp_runner'
import { freePort, isBound } from '#tests/support/sip_peers'

/**
 * baresip (Debian baresip-core) as a TLS phone or carrier with SDES-SRTP: sipp has neither TLS
 * nor SRTP. Each instance runs from its own config directory on 127.0.0.1, plays a sine tone
 * (ausine), records what it hears (sndfile) and quits after `seconds` (hanging up its call).
 * Recipe and quirks: ../shared/docs/telephony-notes.md.
 */

export interface BaresipOptions {
  /** The account line: `<sip:user@host;transport=tls>;param=...` */
  account: string
  /** Dialled once it started (`/dial`), e.g. `sip:+4930...@127.0.0.1:5061;transport=tls`. */
  dial?: string
  /** It quits (and hangs up) after this many seconds. */
  seconds: number
  /** The tone it sends, so that each side's recording shows the other's frequency. */
  toneHz: number
  /** Its RTP port (from rtpPortPair), when a capture has to start before it does. */
  rtpPort?: number
}

export interface Baresip {
  /** UDP/TCP listen port; its TLS listens on sipPort + 1. */
  sipPort: number
  tlsPort: number
  /** The one RTP port it uses. */
  rtpPort: number
  /** Its exit code once it quit. */
  done: Promise<number | null>
  output(): string
  /**
   * The 16-bit mono samples at 8 kHz it recorded from the call (decoder side), or null. Waits (up
   * to 5 s) for a running baresip to close the recording: its WAV header says how much audio there
   * is only once the call's audio stopped (read before, a finished call came out empty).
   */
  heard(): Promise<Int16Array | null>
  stop(): Promise<void>
}

/** An even UDP port whose next port is free too (RTP and RTCP). */
export async function rtpPortPair(): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const port = await freePort('udp')
    if (port % 2 === 0 && port < 65_000 && !isBound('udp', port + 1)) return port
  }
  throw new Error('no free RTP port pair for baresip')
}

/** A port free for UDP and TCP whose next port is free for TCP too (its TLS listener). */
async function sipPortPair(): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const port = await freePort('tcp')
    if (port < 65_000 && !isBound('udp', port) && !isBound('tcp', port + 1)) return port
  }
  throw new Error('no free SIP port pair for baresip')
}

/**
 * Starts baresip and waits until it says it is ready. Its SIP ports are picked free but bound
 * only by baresip itself, so another process may take one in between: baresip then quits at
 * once with "Address already in use", and it is started again on other ports.
 */
export async function startBaresip(options: BaresipOptions): Promise<Baresip> {
  requireTool('baresip', 'baresip-core')
  for (let attempt = 1; ; attempt++) {
    const started = await startOnce(options)
    const ready = await started.ready
    if (ready) return started.baresip
    await started.baresip.stop()
    const output = started.baresip.output()
    if (!/Address already in use/.test(output) || attempt === 5) {
      throw new Error(`baresip did not start (attempt ${attempt}):\n${output}`)
    }
  }
}

async function startOnce(options: BaresipOptions) {
  const directory = mkdtempSync(join(tmpdir(), 'fluffycall-baresip-'))
  const sipPort = await sipPortPair()
  const rtpPort = options.rtpPort ?? (await rtpPortPair())
  const certificate = selfSignedPem(directory)
  writeFileSync(
    join(directory, 'config'),
    [
      'poll_method poll',
      `sip_listen 127.0.0.1:${sipPort}`,
      `sip_certificate ${certificate}`,
      'net_interface 127.0.0.1',
      // libre picks an even port in [min, max): exactly rtpPort, RTCP on rtpPort + 1
      `rtp_ports ${rtpPort}-${rtpPort + 2}`,
      `audio_source ausine,${options.toneHz}`,
      'ausrc_srate 48000',
      'ausrc_channels 2',
      `audio_player aufile,${join(directory, 'played.wav')}`,
      'audio_alert aufile,/dev/null',
      `snd_path ${directory}`,
      'module_path /usr/lib/baresip/modules',
      'module g711.so',
      'module ausine.so',
      'module aufile.so',
      'module sndfile.so',
      'module srtp.so',
      'module_app account.so',
      // menu handles `-e "/dial ..."`; `cons` is left out (it binds UDP 5555 in every instance)
      'module_app menu.so',
      '',
    ].join('\n')
  )
  writeFileSync(join(directory, 'accounts'), `${options.account}\n`)
  writeFileSync(join(directory, 'contacts'), '')
  const args = ['-f', directory, '-t', String(options.seconds)]
  if (options.dial) args.push('-e', `/dial ${options.dial}`)
  const child = spawn('baresip', args, { cwd: directory, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  let onOutput = () => {}
  const collect = (chunk: Buffer) => {
    output += chunk
    onOutput()
  }
  child.stdout.on('data', collect)
  child.stderr.on('data', collect)
  const done = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const exited = () => child.exitCode !== null || child.signalCode !== null
  // true once it printed "baresip is ready.", false when it quit before
  const ready = new Promise<boolean>((resolve) => {
    onOutput = () => {
      if (output.includes('baresip is ready.')) resolve(true)
    }
    void done.then(() => resolve(output.includes('baresip is ready.')))
  })
  const baresip: Baresip = {
    sipPort,
    tlsPort: sipPort + 1,
    rtpPort,
    done,
    output: () => output.replace(/\[\d+:\d+:\d+\] audio=\S+ \(bit\/s\)\s*/g, ''),
    heard: async () => {
      const deadline = Date.now() + 5000
      for (;;) {
        const file = readdirSync(directory).find((name) => name.endsWith('-dec.wav'))
        const samples = file ? wavSamples(readFileSync(join(directory, file))) : null
        if (samples?.length || exited() || Date.now() > deadline) return samples
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    },
    stop: async () => {
      if (!exited()) {
        child.kill('SIGTERM')
        await done
      }
      rmSync(directory, { recursive: true, force: true })
    },
  }
  return { baresip, ready }
}

/** baresip's TLS needs a certificate (with its key in the same file) even as a client. */
function selfSignedPem(directory: string): string {
  const key = join(directory, 'key.pem')
  const cert = join(directory, 'crt.pem')
  const made = spawnSync('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    '1',
    '-subj',
    '/CN=127.0.0.1',
  ])
  if (made.status !== 0) throw new Error(`openssl could not make a certificate: ${made.stderr}`)
  const pem = join(directory, 'cert.pem')
  writeFileSync(pem, Buffer.concat([readFileSync(cert), readFileSync(key)]))
  return pem
}

/** The samples of a 16-bit PCM WAV file (the data chunk), or null when there is none. */
function wavSamples(wav: Buffer): Int16Array | null {
  let offset = 12
  while (offset + 8 <= wav.length) {
    const id = wav.toString('ascii', offset, offset + 4)
    const size = wav.readUInt32LE(offset + 4)
    if (id === 'data') {
      const data = wav.subarray(offset + 8, Math.min(wav.length, offset + 8 + size))
      return new Int16Array(
        data.buffer.slice(data.byteOffset, data.byteOffset + data.length - (data.length % 2))
      )
    }
    offset += 8 + size + (size % 2)
  }
  return null
}

/**
 * Share of the signal's energy at `hz` (Goertzel over 100 ms blocks, averaged over the loud
 * ones), and the number of loud blocks: a recorded tone of that frequency gives a share near 1.
 */
export function toneShare(samples: Int16Array, hz: number, rate = 8000) {
  const block = rate / 10
  const coefficient = 2 * Math.cos((2 * Math.PI * hz) / rate)
  let shares = 0
  let loudBlocks = 0
  for (let start = 0; start + block <= samples.length; start += block) {
    let energy = 0
    let s1 = 0
    let s2 = 0
    for (let index = start; index < start + block; index++) {
      const sample = samples[index]
      energy += sample * sample
      const s0 = sample + coefficient * s1 - s2
      s2 = s1
      s1 = s0
    }
    // A sine of amplitude A over N samples: Goertzel power N²A²/4, energy NA²/2
    const power = s1 * s1 + s2 * s2 - coefficient * s1 * s2
    if (energy / block < 100 * 100) continue
    loudBlocks++
    shares += Math.min(1, (2 * power) / (block * energy))
  }
  return { share: loudBlocks ? shares / loudBlocks : 0, loudBlocks }
}

/** Shannon entropy in bits per byte of all the given bytes together. */
export function byteEntropy(chunks: Buffer[]): number {
  const counts = new Array<number>(256).fill(0)
  let total = 0
  for (const chunk of chunks) {
    for (const byte of chunk) counts[byte]++
    total += chunk.length
  }
  let entropy = 0
  for (const count of counts) {
    if (count === 0) continue
    const p = count / total
    entropy -= p * Math.log2(p)
  }
  return entropy
}
