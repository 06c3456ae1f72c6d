import { test } from '@japa/runner'
import {
  delayImpairment,
  effectiveEquipmentImpairment,
  estimateMos,
  mosFromR,
  qualityLabel,
  sideQuality,
} from '#calls/b2bua/call_quality'

const clean = {
  packetsExpected: 500,
  packetsLost: 0,
  lossFraction: 0,
  jitterMs: 1,
  rttMs: null,
  rtcpSent: 0,
  rtcpReceived: 0,
}

test.group('Call quality: the simplified E-model (ITU-T G.107)', () => {
  test('MOS from R at known points (G.107 Annex B)', ({ assert }) => {
    assert.equal(mosFromR(0), 1)
    assert.equal(mosFromR(-5), 1)
    assert.equal(mosFromR(100), 4.5)
    assert.closeTo(mosFromR(93.2), 4.41, 0.005)
    assert.closeTo(mosFromR(80), 4.02, 0.005)
    assert.closeTo(mosFromR(70), 3.6, 0.005)
    assert.closeTo(mosFromR(50), 2.58, 0.005)
  })

  test('delay and loss impairments (G.113 Bpl for G.711: 4.3 without PLC, 25.1 with)', ({
    assert,
  }) => {
    assert.closeTo(delayImpairment(100), 2.4, 1e-9)
    assert.closeTo(delayImpairment(200), 4.8 + 0.11 * 22.7, 1e-9)
    assert.equal(effectiveEquipmentImpairment(0, 0, 4.3), 0)
    assert.closeTo(effectiveEquipmentImpairment(5, 0, 4.3), (95 * 5) / 9.3, 1e-9)
    assert.closeTo(effectiveEquipmentImpairment(5, 0, 25.1), (95 * 5) / 30.1, 1e-9)
    // 5 % random loss on G.711 without PLC, 60 ms one way: R = 93.2 - 1.44 - 51.08 = 40.68
    assert.closeTo(
      estimateMos({ codec: 'PCMA', lossPercent: 5, oneWayDelayMs: 60, plc: false }),
      mosFromR(93.2 - 1.44 - 475 / 9.3),
      1e-9
    )
    assert.closeTo(
      estimateMos({ codec: 'PCMU', lossPercent: 0, oneWayDelayMs: 60, plc: true }),
      4.38,
      0.005
    )
  })

  test('a side: figures rounded, MOS worse with loss, unknown with too little audio; labels', ({
    assert,
  }) => {
    const good = sideQuality(clean, { quality: clean, browser: true }, 'PCMA')!
    const lossy = sideQuality(
      { ...clean, packetsLost: 25, lossFraction: 0.05, jitterMs: 3.456, rttMs: 20.04 },
      { quality: clean, browser: false },
      'PCMA'
    )!
    assert.deepEqual(
      { ...lossy, mos: 0 },
      { lossPercent: 5, jitterMs: 3.5, rttMs: 20, mos: 0 },
      'rounded'
    )
    assert.isAbove(good.mos, 4.3)
    assert.isBelow(lossy.mos, good.mos)
    assert.isNull(sideQuality({ ...clean, packetsExpected: 10 }, null, 'PCMA'))
    assert.equal(qualityLabel(4.2), 'good')
    assert.equal(qualityLabel(3.8), 'fair')
    assert.equal(qualityLabel(2.1), 'poor')
  })
})
