import net from 'node:net'
import { test } from '@japa/runner'
import knex from 'knex'
import { isDatabaseUnavailable } from '#core/database_unavailable'
import { resourceOf } from '#calls/b2bua/capacity_resources'
import { freePort } from '#tests/support/sip_peers'

/**
 * The errors pg really gives when PostgreSQL is out of reach (nothing listening; the connection
 * dropped mid-way) mean "try again once it is back" (a call's 503, a CDR end kept and written
 * later); an error the database itself answers with does not.
 */
test.group('Database out of reach: the errors', () => {
  /** A query through knex (as Lucid sends it) to PostgreSQL on `port`: the error it gets. */
  async function queryAt(port: number) {
    const client = knex({
      client: 'pg',
      connection: { host: '127.0.0.1', port, user: 'postgres' },
      pool: { min: 0, max: 1 },
      acquireConnectionTimeout: 2000,
      // knex writes each failed acquisition to the console: the test reads the error instead
      log: { warn() {}, error() {}, deprecate() {}, debug() {} },
    })
    try {
      return await client.raw('select 1').then(
        () => null,
        (failure: unknown) => failure
      )
    } finally {
      await client.destroy()
    }
  }

  test('nothing listening: ECONNREFUSED', async ({ assert }) => {
    const error = await queryAt(await freePort('tcp'))
    assert.isTrue(isDatabaseUnavailable(error), String(error))
    assert.equal(resourceOf(error), 'database')
  })

  test('the connection dropped before an answer: terminated', async ({ assert }) => {
    const dropping = net.createServer((socket) => socket.destroy())
    await new Promise<void>((resolve) => dropping.listen(0, '127.0.0.1', resolve))
    try {
      const error = await queryAt((dropping.address() as net.AddressInfo).port)
      assert.isTrue(isDatabaseUnavailable(error), String(error))
    } finally {
      await new Promise((resolve) => dropping.close(resolve))
    }
  })

  test("the database's own refusals are not an outage", ({ assert }) => {
    for (const error of [
      Object.assign(new Error('duplicate key value violates unique constraint "x"'), {
        code: '23505',
      }),
      Object.assign(new Error('syntax error at or near "selec"'), { code: '42601' }),
      new Error('Cannot read properties of undefined'),
      null,
    ]) {
      assert.isFalse(isDatabaseUnavailable(error), String(error))
    }
  })
})
