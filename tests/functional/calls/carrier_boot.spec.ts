import { spawn } from 'node:child_process'
import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'

/** Boots the real HTTP server entry point with a carrier config fixture; resolves with its exit code and stderr. */
function bootWith(fixture: string) {
  return new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', '@poppinss/ts-exec', 'bin/server.ts'], {
      cwd: app.makePath(),
      env: {
        ...process.env,
        NODE_ENV: 'test',
        PORT: '3441',
        CARRIERS_CONFIG_FIXTURE: fixture,
        NO_COLOR: '1',
        FORCE_COLOR: '0',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (chunk) => (stderr += chunk))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(
        new Error(`the server with fixture ${fixture} did not exit within 20 s; stderr:\n${stderr}`)
      )
    }, 20_000)
    child.on('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, stderr })
    })
  })
}

test.group('Carrier config at boot', () => {
  test('a carrier without its port stops the boot, naming the carrier and the field', async ({
    assert,
  }) => {
    const { code, stderr } = await bootWith('missing_port')
    assert.notEqual(code, 0)
    assert.isNotNull(code)
    assert.include(stderr, 'Carrier "broken_trunk" is misconfigured')
    assert.include(stderr, 'profile.port')
  }).timeout(25_000)

  test('a carrier processing in the USA without a transfer mechanism stops the boot', async ({
    assert,
  }) => {
    const { code, stderr } = await bootWith('undeclared_transfer')
    assert.notEqual(code, 0)
    assert.isNotNull(code)
    assert.include(stderr, 'Carrier "leaky_trunk" is misconfigured')
    assert.include(stderr, 'subProcessor.transfers')
    assert.include(stderr, 'US (outside the EU/EEA)')
  }).timeout(25_000)
})
