import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import db from '@adonisjs/lucid/services/db'
import SipDeviceService from '#calls/services/sip_device_service'
import { configuredRealm } from '#calls/signalling/registrar_settings'
import CallRecord from '#calls/models/call_record'
import ActiveCallLeg from '#calls/models/active_call_leg'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { freePort, startSipp } from '#tests/support/sip_peers'
import { startServer, until } from '#tests/support/server_process'
import { routeAllCallsTo } from '#tests/support/calls'
import { resetCounters } from '#tests/support/counters'

/**
 * Crash safety with the real server process (bin/server.ts) on the test database: a desk phone's
 * call is answered by a sipp carrier, the server is killed with SIGKILL mid-call, and the
 * restarted process sends BYE on both legs it owned, the carrier's and the phone's (each sipp
 * exits 0 only after its BYE), and closes the CDR. The local carrier of config/carriers.ts points
 * at the sipp carrier (LOCAL_CARRIER_PORT).
 */

const NODE_ID = 'crash-test-node'

/** The call's concurrent-call leases as the server keeps them: Redis, or the lease table. */
async function leasesOf(callUuid: string, companyId: number) {
  const leases = await app.container.make('fraud.leases')
  if (leases.kind === 'redis') return leases.held(`company:${companyId}`)
  return (await db.from('fraud_call_leases').where('call_uuid', callUuid)).length
}

function serverEnv(sipPort: number, httpPort: number, carrierPort: number) {
  return {
    ...process.env,
    NODE_ENV: 'test',
    PORT: String(httpPort),
    SIP_TRANSPORTS: 'udp',
    SIP_UDP_PORT: String(sipPort),
    LOCAL_CARRIER_PORT: String(carrierPort),
    NODE_ID,
    CALL_DRAIN_SECONDS: '1',
    NO_COLOR: '1',
  }
}

test.group('B2BUA: crash safety', () => {
  test('after SIGKILL mid-call the restarted server sends BYE to the carrier and the phone and closes the CDR', async ({
    assert,
    cleanup,
  }) => {
    await resetCounters()
    const company = await makeCompany('active')
    const user = await makeUser('member', company)
    const { device, password } = await new SipDeviceService().create(user, 'Desk phone')
    await routeAllCallsTo(['local'])

    const carrier = await startSipp({
      scenario: 'carrier_answer_echo.xml',
      transport: 'u1',
      timeoutSeconds: 60,
      traceMessages: true,
      // -aa: OPTIONS health checks of the restarted server are answered 200 outside the scenario.
      extraArgs: ['-aa', '-rtp_echo'],
    })
    cleanup(() => carrier.stop())
    const sipPort = await freePort('udp')
    const env = serverEnv(sipPort, await freePort('tcp'), carrier.port)
    let server = await startServer(env, sipPort)
    cleanup(() => {
      server.child.kill('SIGKILL')
    })

    const phone = await startSipp({
      // Never hangs up: exits 0 only after the BYE of the restarted server.
      scenario: 'phone_call_until_bye.xml',
      transport: 'u1',
      target: `127.0.0.1:${sipPort}`,
      localIp: '127.0.0.2',
      timeoutSeconds: 60,
      traceMessages: true,
      keys: { domain: configuredRealm(), callee: '+4930555000' },
      extraArgs: [
        '-auth_uri',
        `+4930555000@127.0.0.1:${sipPort}`,
        '-s',
        device.sipUsername,
        '-au',
        device.sipUsername,
        '-ap',
        password,
      ],
    })
    cleanup(() => phone.stop())

    const record = await until('the answered call', 20_000, async () => {
      const answered = await CallRecord.query()
        .where('node_id', NODE_ID)
        .whereNotNull('answered_at')
        .first()
      if (!answered) return null
      const kept = await ActiveCallLeg.query().where('call_record_id', answered.id)
      return kept.length === 2 ? answered : null
    }).catch((error) => {
      throw new Error(
        `${error.message}\nserver: ${server.stderr()}\ncarrier: ${carrier.messages().slice(-3000)}\nphone: ${phone.messages().slice(-3000)}`
      )
    })
    assert.isNull(record.endedAt)
    const kept = await ActiveCallLeg.query().where('call_record_id', record.id).orderBy('id')
    assert.deepEqual(
      kept.map((leg) => [leg.party, leg.host]),
      [
        ['carrier', '127.0.0.1'],
        ['user', '127.0.0.2'],
      ],
      'both dialogs kept in one insert: the carrier and the phone'
    )

    // The call holds a concurrent-call lease (a row, or its id in Redis), which the dead process
    // cannot release: the restarted one does, when it closes the CDR.
    assert.equal(await leasesOf(record.uuid, company.id), 1, 'the lease before the crash')

    server.child.kill('SIGKILL')
    await server.exited
    server = await startServer(env, sipPort)

    const outcome = await carrier.done
    assert.equal(
      outcome.code,
      0,
      `${carrier.describe(outcome)}\n${carrier.messages().slice(-3000)}`
    )
    assert.include(carrier.messages(), 'BYE sip:')
    const phoneOutcome = await phone.done
    assert.equal(
      phoneOutcome.code,
      0,
      `${phone.describe(phoneOutcome)}\n${phone.messages().slice(-3000)}`
    )
    assert.include(phone.messages(), `BYE sip:${device.sipUsername}@127.0.0.2`)
    const closed = await until('the closed CDR', 10_000, async () => {
      await record.refresh()
      return record.endedAt ? record : null
    })
    assert.equal(closed.disconnectCause, 'crash_recovery')
    assert.equal(closed.hungUpBy, 'system')
    // The legs are removed one after another, each after its BYE and the CDR's end
    await until('the legs removed', 10_000, async () =>
      (await ActiveCallLeg.query().where('call_record_id', record.id)).length === 0 ? true : null
    )
    await until('the released lease', 10_000, async () =>
      (await leasesOf(record.uuid, company.id)) === 0 ? true : null
    )

    server.child.kill('SIGTERM')
    await server.exited
  }).timeout(120_000)
})
