import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import app from '@adonisjs/core/services/app'
import { isBound } from '#tests/support/sip_peers'
import { requireTool } from '#tests/support/sipp_runner'

export interface TlsProxy {
  /** https://127.0.0.1:<port>: where the browser goes. */
  origin: string
  stop(): Promise<void>
  /** nginx's error log, for a failing test's message. */
  errors(): string
}

export interface TlsProxyOptions {
  port: number
  appPort: number
  certPath: string
  keyPath: string
  /**
   * Where `/sip` goes instead of the app (`host:port`): Kamailio's plain WebSocket port when
   * several nodes run behind it (deploy/kamailio/README.md).
   */
  sipUpstream?: string
}

/**
 * nginx as the production TLS proxy in front of the app: the shipped site file
 * deploy/nginx/fluffycall.conf, with only what a test must change (loopback port, certificate,
 * the app's port) replaced, inside a minimal main configuration of its own. Resolves once nginx
 * listens.
 */
export async function startTlsProxy(options: TlsProxyOptions): Promise<TlsProxy> {
  requireTool('nginx', 'nginx-light')
  const directory = mkdtempSync(join(tmpdir(), 'fluffycall-nginx-'))
  for (const temp of ['body', 'proxy']) mkdirSync(join(directory, temp))
  const site = siteForTest(
    readFileSync(app.makePath('deploy/nginx/fluffycall.conf'), 'utf8'),
    options
  )
  writeFileSync(
    join(directory, 'nginx.conf'),
    [
      'daemon off;',
      'worker_processes 1;',
      `pid ${join(directory, 'nginx.pid')};`,
      `error_log ${join(directory, 'error.log')} warn;`,
      'events { worker_connections 256; }',
      'http {',
      '  access_log off;',
      `  client_body_temp_path ${join(directory, 'body')};`,
      `  proxy_temp_path ${join(directory, 'proxy')};`,
      site,
      '}',
      '',
    ].join('\n')
  )
  const child: ChildProcess = spawn(
    'nginx',
    ['-p', directory, '-e', join(directory, 'error.log'), '-c', join(directory, 'nginx.conf')],
    { stdio: 'ignore' }
  )
  let exited = false
  const closed = new Promise<void>((resolve) =>
    child.on('close', () => {
      exited = true
      resolve()
    })
  )
  const errors = () => {
    try {
      return readFileSync(join(directory, 'error.log'), 'utf8').slice(-3000)
    } catch {
      return ''
    }
  }
  const deadline = Date.now() + 5000
  while (!isBound('tcp', options.port)) {
    if (exited || Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`nginx did not listen on ${options.port}: ${errors()}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return {
    origin: `https://127.0.0.1:${options.port}`,
    errors,
    stop: async () => {
      // SIGTERM: nginx's fast stop (open WebSockets close at once).
      if (!exited) child.kill('SIGTERM')
      await closed
      rmSync(directory, { recursive: true, force: true })
    },
  }
}

/**
 * The shipped site file with a test's values: HTTPS on a loopback port (the port-80 redirect and
 * the IPv6 listeners dropped), a test certificate, the app's port. Fails when the file no longer
 * has what it replaces, so the test cannot silently run another configuration.
 */
export function siteForTest(site: string, options: TlsProxyOptions): string {
  const replacements: Array<[RegExp, string]> = [
    [/server \{\s*listen 80;[\s\S]*?\n\}\n/, ''],
    [/^\s*listen \[::\]:443 ssl http2;\n/m, ''],
    [/listen 443 ssl http2;/, `listen 127.0.0.1:${options.port} ssl http2;`],
    [/ssl_certificate\s+\S+;/, `ssl_certificate ${options.certPath};`],
    [/ssl_certificate_key\s+\S+;/, `ssl_certificate_key ${options.keyPath};`],
  ]
  let result = site
  for (const [pattern, value] of replacements) {
    if (!pattern.test(result)) throw new Error(`deploy/nginx/fluffycall.conf: no ${pattern}`)
    result = result.replace(pattern, value)
  }
  if (!result.includes('http://127.0.0.1:3333'))
    throw new Error('deploy/nginx/fluffycall.conf: no proxy_pass to 127.0.0.1:3333')
  if (options.sipUpstream) {
    const sipBlock = /(location = \/sip \{[^}]*?proxy_pass )http:\/\/127\.0\.0\.1:3333;/
    if (!sipBlock.test(result))
      throw new Error('deploy/nginx/fluffycall.conf: no proxy_pass in the location = /sip block')
    result = result.replace(sipBlock, `$1http://${options.sipUpstream};`)
  }
  return result.replaceAll('http://127.0.0.1:3333', `http://127.0.0.1:${options.appPort}`)
}
