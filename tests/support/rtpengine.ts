import { spawn } from 'node:child_process'
import { mkdirSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { requireTool } from '#tests/support/sipp_runner'
import { isBound } from '#tests/support/sip_peers'
import NgClient from '#media/rtpengine/ng_client'

/**
 * rtpengine (Debian rtpengine-daemon) run by a test: user space (--table=-1, no kernel module),
 * foreground, on 127.0.0.1 only, its own ng port (2223-2299) and media range, a pid and log file
 * in tmp/. stop() ends exactly that process. Recipe: ../shared/docs/telephony-notes.md.
 */

export interface RtpengineProcess {
  ng: { host: string; port: number }
  /** A control client of the test's own (list, query), closed by stop(). */
  control: NgClient
  logFile: string
  log(): string
  stop(): Promise<void>
}

export async function startRtpengine(options: {
  ngPort: number
  ports: [number, number]
}): Promise<RtpengineProcess> {
  requireTool('rtpengine', 'rtpengine-daemon')
  if (isBound('udp', options.ngPort)) {
    throw new Error(`UDP ${options.ngPort} is taken: another rtpengine (or test) is running there`)
  }
  const dir = join(process.cwd(), 'tmp')
  mkdirSync(dir, { recursive: true })
  const logFile = join(dir, `rtpengine-${options.ngPort}.log`)
  const pidFile = join(dir, `rtpengine-${options.ngPort}.pid`)
  const out = openSync(logFile, 'w')
  const child = spawn(
    'rtpengine',
    [
      '--config-file=none',
      '--table=-1',
      '--interface=127.0.0.1',
      `--listen-ng=127.0.0.1:${options.ngPort}`,
      `--port-min=${options.ports[0]}`,
      `--port-max=${options.ports[1]}`,
      // A deleted call is gone at once (the default keeps it 30 s), so `list` shows the delete
      '--delete-delay=0',
      `--pidfile=${pidFile}`,
      '--foreground',
      '--log-stderr',
      '--log-level=6',
    ],
    { stdio: ['ignore', out, out] }
  )
  closeSync(out)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const control = new NgClient({ host: '127.0.0.1', port: options.ngPort, timeoutMs: 500 })
  const log = () => readFileSync(logFile, 'utf8')
  const stop = async () => {
    control.close()
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      const killer = setTimeout(() => child.kill('SIGKILL'), 3000)
      await exited
      clearTimeout(killer)
    }
    rmSync(pidFile, { force: true })
  }
  // Ready when it answers a ping (it binds its sockets first)
  for (let attempt = 0; ; attempt++) {
    try {
      if ((await control.command('ping')).result === 'pong') break
    } catch (error) {
      if (child.exitCode !== null || attempt >= 20) {
        await stop()
        throw new Error(`rtpengine did not start: ${log().slice(-2000)}`, { cause: error })
      }
    }
  }
  return { ng: { host: '127.0.0.1', port: options.ngPort }, control, logFile, log, stop }
}
