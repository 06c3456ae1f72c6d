import { test } from '@japa/runner'
import { logTargets } from '#config/logger'

test.group('Log targets', () => {
  test('production: JSON lines to stdout; development: pino-pretty; tests: their own file', ({
    assert,
  }) => {
    assert.deepEqual(
      logTargets({ production: true }).map((target) => [
        target.target,
        target.options?.destination,
      ]),
      [['pino/file', 1]]
    )
    const development = logTargets({ production: false })
    assert.deepEqual(
      development.map((target) => target.target),
      ['pino-pretty']
    )
    assert.deepEqual(
      logTargets({ production: false, testLogFile: '/tmp/x.log' }).map((target) => [
        target.target,
        target.options?.destination,
      ]),
      [['pino/file', '/tmp/x.log']]
    )
  })
})
