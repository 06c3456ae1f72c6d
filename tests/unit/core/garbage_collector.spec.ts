import { test } from '@japa/runner'
import { spawnSync } from 'node:child_process'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { garbageCollectorFlags } from '#core/garbage_collector'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

// A process that applies the settings the way bin/server.ts does, then keeps a rolling set of
// objects alive across scavenges (as calls live across them) while it allocates. Its start
// (loading the TypeScript hooks and the module) scavenges before the settings apply: only the
// last scavenges, the churn's own, are judged.
const CHURN = `
import { applyGarbageCollectorSettings } from '#core/garbage_collector'
applyGarbageCollectorSettings({ parallelScavenge: process.argv[1] === 'true' })
const live = []
for (let i = 0; i < 12000; i++) {
  const call = { id: 'call-' + i, headers: [] }
  for (let j = 0; j < 200; j++) call.headers.push({ name: 'h' + j, value: 'value ' + i + ' ' + j })
  live.push(call)
  if (live.length > 400) live.shift()
}
`

/** The helper threads' time of each scavenge the child did, from V8's --trace-gc-nvp lines. */
function helperTimes(parallelScavenge: boolean): number[] {
  const child = spawnSync(
    process.execPath,
    [
      '--trace-gc-nvp',
      '--import',
      '@poppinss/ts-exec',
      '--input-type=module',
      '-e',
      CHURN,
      String(parallelScavenge),
    ],
    { cwd: ROOT, encoding: 'utf8', timeout: 60_000 }
  )
  if (child.status !== 0) throw new Error(`churn process failed: ${child.stderr || child.error}`)
  return child.stdout
    .split('\n')
    .filter((line) => line.includes(' gc=s '))
    .map((line) => Number(/background\.scavenge\.parallel=([\d.]+)/.exec(line)?.[1] ?? Number.NaN))
}

test.group('Garbage collector settings', () => {
  test('the scavenger runs on the main thread alone unless parallel scavenging is asked for', ({
    assert,
  }) => {
    assert.deepEqual(garbageCollectorFlags({ parallelScavenge: false }), ['--no-parallel-scavenge'])
    assert.deepEqual(garbageCollectorFlags({ parallelScavenge: true }), [])
  })

  test('applied at run time, it keeps V8 helper threads out of every scavenge', ({ assert }) => {
    const single = helperTimes(false)
    assert.isAtLeast(single.length, 12, 'the churn process should have scavenged many times')
    assert.deepEqual(
      single.slice(-6).filter((ms) => ms !== 0),
      [],
      'no scavenge of the churn should have used helper threads'
    )
    // The control: V8's default does use them where there is more than one core.
    if (availableParallelism() > 1) {
      const parallel = helperTimes(true)
      assert.isAtLeast(parallel.length, 12)
      assert.isAbove(Math.max(...parallel.slice(-6)), 0, "V8's default should use helper threads")
    }
  }).timeout(120_000)
})
