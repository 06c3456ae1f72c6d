import { test } from '@japa/runner'
import {
  assessQuality,
  estimateMos,
  readSample,
  type StatsEntry,
} from '../../../../resources/js/phone/call_quality.js'

/** A getStats() report as Chromium hands it out: a map of stats objects. */
function report(entries: StatsEntry[]) {
  return new Map(entries.map((entry, index) => [String(index), entry]))
}

test.group('Web phone: call quality', () => {
  test('MOS from the simplified E-model: a clean line is about 4.4, loss and delay bring it down', ({
    assert,
  }) => {
    assert.closeTo(estimateMos(0, 0, 0), 4.4, 0.05)
    assert.closeTo(estimateMos(0, 5, 40), 4.39, 0.05)
    assert.isBelow(estimateMos(5, 20, 200), estimateMos(1, 20, 200))
    assert.isBelow(estimateMos(1, 30, 600), 3.6, 'long delay')
    assert.equal(estimateMos(60, 100, 2000), 1, 'never below 1')
  })

  test('the sample reads audio inbound-rtp, remote round trip, else the nominated pair', ({
    assert,
  }) => {
    const sample = readSample(
      report([
        { type: 'inbound-rtp', kind: 'audio', packetsReceived: 500, packetsLost: 5, jitter: 0.012 },
        {
          type: 'inbound-rtp',
          kind: 'video',
          packetsReceived: 9000,
          packetsLost: 900,
          jitter: 0.5,
        },
        { type: 'remote-inbound-rtp', kind: 'audio', roundTripTime: 0.08 },
        { type: 'candidate-pair', nominated: true, state: 'succeeded', currentRoundTripTime: 0.5 },
      ])
    )
    assert.deepEqual(sample, {
      packetsReceived: 500,
      packetsLost: 5,
      jitter: 0.012,
      roundTripTime: 0.08,
    })
    const pairOnly = readSample(
      report([
        { type: 'candidate-pair', nominated: true, state: 'succeeded', currentRoundTripTime: 0.03 },
      ])
    )
    assert.equal(pairOnly.roundTripTime, 0.03)
  })

  test('loss is measured over the last interval, not the whole call', ({ assert }) => {
    const earlier = { packetsReceived: 1000, packetsLost: 100, jitter: 0.01, roundTripTime: 0.05 }
    const clean = assessQuality(earlier, {
      packetsReceived: 1100,
      packetsLost: 100,
      jitter: 0.01,
      roundTripTime: 0.05,
    })
    assert.equal(clean.lossPercent, 0)
    assert.equal(clean.grade, 'good')
    assert.equal(clean.jitterMs, 10)
    assert.equal(clean.rttMs, 50)
    const lossy = assessQuality(earlier, {
      packetsReceived: 1090,
      packetsLost: 110,
      jitter: 0.01,
      roundTripTime: 0.05,
    })
    assert.equal(lossy.lossPercent, 10)
    assert.equal(lossy.grade, 'poor')
    assert.equal(
      assessQuality(null, earlier).lossPercent,
      9.1,
      'first sample: since the call began'
    )
  })
})
