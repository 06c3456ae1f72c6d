/*
 * The production build for bench/b2bua_calls.ts --server build: `node ace build` into build/, the
 * checkout's packages linked into it (the README's `npm ci --omit=dev` gives the same modules for
 * what the server loads), and a loopback carrier the production server accepts.
 *
 * Why the carrier: config/carriers.ts leaves the `local` loopback peer out in production (and the
 * carrier validator refuses development-only carriers there), so a route to `local` has no active
 * carrier and every call is refused with 503 "No carrier available" (CDR cause `refused`). The
 * bench therefore wraps the built config/carriers.js: the shipped carriers plus
 * `BENCH_CARRIER_NAME`, a generic trunk (a carrier kind production accepts) at 127.0.0.1 on
 * BENCH_CARRIER_PORT with the local peer's profile and confirmed metadata that names the bench.
 * Only the built copy is changed; the source config and the product are not.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'

export const BENCH_CARRIER_NAME = 'bench_loopback'

const MARKER = '// bench/support/production_build.ts: the shipped carriers plus a loopback peer'

function carriersWrapper() {
  return `${MARKER}
import { carriers } from '#calls/carriers/define_config'
import shipped from './carriers.shipped.js'

const port = Number(process.env.BENCH_CARRIER_PORT)
if (!Number.isInteger(port) || port <= 0) throw new Error('BENCH_CARRIER_PORT is not set')
const loopback = { country: 'DE', dataCentre: 'this machine (loopback, benchmark)' }
shipped.regions.eu.carriers[${JSON.stringify(BENCH_CARRIER_NAME)}] = carriers.generic({
  label: 'Benchmark loopback peer',
  profile: {
    hosts: ['127.0.0.1'],
    port,
    transport: 'udp',
    auth: { method: 'ip', sourceAddresses: ['127.0.0.1'] },
    codecs: ['PCMA', 'PCMU', 'telephone-event'],
    srtp: 'none',
    numberFormat: 'e164_plus',
    callerId: { identity: 'pai', clir: 'privacy_header' },
    emergency: { location: 'pidf_lo', numbers: ['110', '112'] },
    healthCheck: { enabled: true, intervalSeconds: 30, timeoutMs: 2000, failuresBeforeDown: 3 },
  },
  subProcessor: {
    legalEntity: {
      name: 'Benchmark (no real carrier)',
      address: { street: 'Loopback 1', postalCode: '00000', city: 'Localhost', country: 'DE' },
    },
    entityCountry: 'DE',
    processing: { signalling: [loopback], media: [loopback], metadata: [loopback] },
    purpose: { de: 'Benchmark', en: 'Benchmark' },
    dataCategories: ['call_metadata'],
    transfers: [],
    since: '2026-01-01',
    dpaUrl: 'https://example.invalid/benchmark',
    confirmed: true,
  },
})
export default shipped
`
}

/**
 * Builds the server into ROOT/build unless `reuse` and a wrapped build is there; returns the
 * build directory.
 */
export function productionBuild(root: string, reuse: boolean): string {
  const build = `${root}build/`
  const carriers = `${build}config/carriers.js`
  const wrapped = () => existsSync(carriers) && readFileSync(carriers, 'utf8').startsWith(MARKER)
  if (reuse && existsSync(`${build}bin/server.js`) && wrapped()) return build
  const result = spawnSync(process.execPath, ['ace', 'build'], {
    cwd: root,
    env: { ...process.env, NODE_ENV: 'production' },
    encoding: 'utf8',
  })
  if (result.status !== 0)
    throw new Error(`node ace build failed:\n${result.stdout}\n${result.stderr}`)
  rmSync(`${build}node_modules`, { recursive: true, force: true })
  symlinkSync(`${root}node_modules`, `${build}node_modules`, 'dir')
  renameSync(carriers, `${build}config/carriers.shipped.js`)
  writeFileSync(carriers, carriersWrapper())
  return build
}
