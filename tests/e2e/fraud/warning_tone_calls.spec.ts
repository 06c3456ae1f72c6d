import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import { FakeClock, SystemClock } from '#sip'
import { toneShare, WARNING_TONE } from '#media'
import type B2bua from '#calls/b2bua/b2bua'
import FraudCompanyPolicy from '#fraud/models/fraud_company_policy'
import fraudConfig from '#config/fraud'
import { completedCdr, loopbackCarriers, startB2bua } from '#tests/support/calls'
import { freePort } from '#tests/support/sip_peers'
import { captureRtp } from '#tests/support/rtp_capture'
import { until } from '#tests/support/server_process'
import {
  expectExit,
  phoneFor,
  sippCarrier,
  sippPhoneCall,
} from '#tests/e2e/calls/b2bua_races_peers'

/**
 * The warning tone before the maximum duration, heard by a real SIP phone (sipp): the call's
 * timers run on a FakeClock, the phone's RTP port is captured with tshark, and the beeps are
 * recognised in the captured G.711 payloads, all before FluffyCall's BYE.
 */
test.group('Fraud: the warning tone before the maximum duration (sipp phone)', (group) => {
  let b2bua: B2bua
  group.setup(async () => {
    b2bua = await startB2bua()
  })

  test('the phone hears three beeps 30 s before the end on the fake clock, then the BYE; CDR max_duration', async ({
    assert,
    cleanup,
  }) => {
    const clock = new FakeClock(Date.now())
    b2bua.useClock(clock)
    cleanup(() => b2bua.useClock(new SystemClock()))
    const carrier = await sippCarrier('carrier_answer_echo.xml', { echo: true, timeoutSeconds: 30 })
    cleanup(carrier.stop)
    cleanup(await loopbackCarriers({ first: carrier.port }))
    const phone = await phoneFor()
    await FraudCompanyPolicy.create({
      companyId: phone.company.id,
      allowedCountries: fraudConfig.allowedCountries,
      enabledRiskClasses: [],
      outboundSuspension: 'none',
      limits: { maxDurationSeconds: 60 },
    })
    ;(await app.container.make('fraud.policies')).forgetCompany(phone.company.id)

    const mediaPort = await freePort('udp', '127.0.0.2')
    const capture = await captureRtp(mediaPort)
    const call = await sippPhoneCall(phone, '+4930500300', 'phone_call_until_bye.xml', {
      timeoutSeconds: 30,
      mediaPort,
    })
    cleanup(call.stop)
    const live = await until('the call answered', 15_000, async () =>
      b2bua.calls.find(
        (entry) => entry.record.companyId === phone.company.id && entry.session.answered
      )
    )

    clock.advance(29_900)
    assert.isUndefined(live.session.warningTone, 'no tone before 30 s ahead of the end')
    clock.advance(200)
    assert.isDefined(live.session.warningTone)
    assert.equal(await live.session.warningTone, 60, 'three beeps and their silences sent')
    const byeAt = Date.now() / 1000
    assert.isFalse(live.session.ended)
    clock.advance(30_000)
    await expectExit(call, 0, assert)
    await expectExit(carrier, 0, assert)

    const toPhone = (await capture.stop()).filter(
      (packet) => packet.toPort === mediaPort && packet.payloadType === 8
    )
    const beeps = toPhone.filter(
      (packet) => toneShare(packet.payload, 'PCMA', WARNING_TONE.frequencyHz) > 0.9
    )
    assert.lengthOf(beeps, 30, 'every beep frame (3 × 200 ms) reached the phone')
    assert.isTrue(
      beeps.every((packet) => packet.time < byeAt),
      'all before the BYE'
    )
    assert.isAbove(
      toPhone.filter((packet) => packet.time < beeps[0].time).length,
      0,
      'the echoed audio before the tone'
    )
    const record = await completedCdr()
    assert.equal(record.companyId, phone.company.id)
    assert.equal(record.disconnectCause, 'max_duration')
    assert.equal(record.hungUpBy, 'system')
  }).timeout(60_000)
})
