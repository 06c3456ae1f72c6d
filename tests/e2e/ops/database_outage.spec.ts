import net from 'node:net'
import { test } from '@japa/runner'
import { expectScenario, serverWithDeskPhone } from '#tests/support/server_phones'
import { until } from '#tests/support/server_process'

/**
 * PostgreSQL out of reach under the real server process: the server reaches the database through
 * a TCP relay on loopback that the test cuts (every connection closed, new ones refused) and
 * opens again, while the test itself reads the database directly. A call that ends during the
 * outage gets its CDR written once the database is back, with the call's own end time and talk
 * time (before, the end was lost and the sweeper closed the CDR later as 'lost', billing the
 * outage as talk time); a new call meanwhile gets 503 with Retry-After and /readyz says the
 * database failed; once the database is back calls connect again. A call whose carrier answers
 * while the database is away cannot have its answer written before the caller's 200: the caller
 * gets 503 with Retry-After, the carrier BYE, and the CDR closes once the database is back.
 */

const postgres = process.env.DB_CONNECTION === 'pg'
const NODE_ID = 'database-outage-node'

/** A TCP relay to PostgreSQL that can be cut and opened again on the same port. */
class DatabaseRelay {
  #server: net.Server | null = null
  readonly #sockets = new Set<net.Socket>()
  port = 0

  constructor(private readonly target: { host: string; port: number }) {}

  async open() {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.target.port, this.target.host)
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket)
        socket.on('close', () => this.#sockets.delete(socket))
        socket.on('error', () => {})
      }
      client.pipe(upstream).pipe(client)
      client.on('close', () => upstream.destroy())
      upstream.on('close', () => client.destroy())
    })
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve))
    this.port = (server.address() as net.AddressInfo).port
    this.#server = server
  }

  /** Every connection dropped, new ones refused (nothing listens). */
  async cut() {
    const server = this.#server
    this.#server = null
    for (const socket of this.#sockets) socket.destroy()
    if (server) await new Promise((resolve) => server.close(resolve))
  }
}

/** A relay to the test's PostgreSQL, open, and cut when the test ends. */
async function openRelay(cleanup: (task: () => Promise<void>) => void) {
  const relay = new DatabaseRelay({
    host: process.env.PG_HOST || '127.0.0.1',
    port: Number(process.env.PG_PORT || 5432),
  })
  await relay.open()
  cleanup(() => relay.cut())
  return relay
}

test.group('PostgreSQL out of reach', () => {
  test('a call ending during the outage gets its CDR with its own end and talk time once the database is back; a new call gets 503 meanwhile', async ({
    assert,
    cleanup,
  }) => {
    const relay = await openRelay(cleanup)
    // Two calls reach its carrier: the one across the outage and one after it.
    const { server, carrier, httpPort, call, firstAnswered, allClosed } = await serverWithDeskPhone(
      {
        nodeId: NODE_ID,
        carrierCalls: 2,
        cleanup,
        env: { PG_HOST: '127.0.0.1', PG_PORT: String(relay.port) },
      }
    )

    // Talks 3 s; the database goes away while it does.
    const talking = await call('phone_call_out.xml', '+4930555000', 3_000)
    const answered = await firstAnswered()
    await relay.cut()

    // A new call while the database is out of reach: 503 with Retry-After, not a hang.
    const refused = await call('phone_call_unavailable.xml', '+4930555001')
    await expectScenario(refused, 'the call during the outage', assert)

    const ready = await fetch(`http://127.0.0.1:${httpPort}/readyz`)
    assert.equal(ready.status, 503)
    assert.equal(
      ((await ready.json()) as { checks: { database: string } }).checks.database,
      'failed'
    )

    // The first call ends by its phone's BYE (answered whatever the database says) ...
    await expectScenario(talking, 'the call across the outage', assert)
    const hungUpAt = Date.now()
    await answered.refresh()
    assert.isNull(answered.endedAt, 'not written while the database is out of reach')
    // ... and the database stays away a while longer.
    await new Promise((resolve) => setTimeout(resolve, 3_000))
    const backAt = Date.now()
    await relay.open()

    const closed = await until('the CDR written after the outage', 20_000, async () => {
      await answered.refresh()
      return answered.endedAt ? answered : null
    }).catch((error) => {
      throw new Error(`${error.message}\nserver: ${server.stderr()}`)
    })
    assert.equal(closed.disconnectCause, 'answered_normal')
    assert.equal(closed.hungUpBy, 'caller')
    // Its own end: before the database came back, about when the phone hung up (CDR times are
    // stored to the second); the talk time without the outage.
    assert.isBelow(closed.endedAt!.toMillis(), backAt)
    assert.isAtMost(Math.abs(closed.endedAt!.toMillis() - hungUpAt), 2_000)
    assert.isAtMost(closed.durationSeconds!, 5)

    // The database is back: calls connect again.
    const after = await call('phone_call_out.xml', '+4930555002')
    await expectScenario(after, 'the call after the outage', assert)
    await expectScenario(carrier, 'the carrier', assert)
    const records = await allClosed()
    const refusedRecord = records.find((record) => record.calleeNumber === '+4930555001')
    if (refusedRecord) assert.equal(refusedRecord.sipStatus, 503)

    server.child.kill('SIGTERM')
    assert.equal((await server.exited).code, 0)
  })
    .skip(!postgres, 'PostgreSQL only (DB_CONNECTION=pg): an embedded SQLite cannot go away')
    .timeout(120_000)

  test('the database gone while the carrier rings: at its answer the phone gets 503 with Retry-After, the carrier BYE, and the CDR is closed once the database is back', async ({
    assert,
    cleanup,
  }) => {
    const relay = await openRelay(cleanup)
    const { server, carrier, call, calls } = await serverWithDeskPhone({
      nodeId: `${NODE_ID}-ringing`,
      carrierCalls: 1,
      carrierScenario: 'carrier_ring_then_answer.xml',
      cleanup,
      env: { PG_HOST: '127.0.0.1', PG_PORT: String(relay.port) },
    })

    const phone = await call('phone_call_unavailable.xml', '+4930555003')
    // The carrier rings for 3 s: the database goes away meanwhile.
    await until('the carrier ringing', 10_000, async () =>
      /SIP\/2\.0 180 Ringing/.test(carrier.messages()) ? true : null
    )
    await relay.cut()
    // Its 200 cannot be written as the CDR's answer: the call is not put through.
    await expectScenario(phone, 'the phone', assert)
    assert.match(
      phone.messages(),
      /SIP\/2\.0 503 [^\r\n]*\r?\n(?:[^\r\n]+\r?\n)*?Retry-After: \d+/i
    )
    await expectScenario(carrier, 'the carrier (ACK and BYE after its 200)', assert)

    await relay.open()
    const [record] = await until('the CDR closed after the outage', 20_000, async () => {
      const rows = await calls()
      return rows.length === 1 && rows[0].endedAt ? rows : null
    }).catch((error) => {
      throw new Error(`${error.message}\nserver: ${server.stderr()}`)
    })
    assert.equal(record.disconnectCause, 'no_capacity')
    assert.equal(record.sipStatus, 503)
    assert.equal(record.hungUpBy, 'system')
    assert.isNull(record.answeredAt, 'the call was never put through')
    assert.equal(record.durationSeconds, 0)

    server.child.kill('SIGTERM')
    assert.equal((await server.exited).code, 0)
  })
    .skip(!postgres, 'PostgreSQL only (DB_CONNECTION=pg): an embedded SQLite cannot go away')
    .timeout(120_000)
})
