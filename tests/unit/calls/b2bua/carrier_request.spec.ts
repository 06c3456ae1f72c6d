import { test } from '@japa/runner'
import {
  carrierInvite,
  carrierNumber,
  sdp,
  sdpOf,
  type CallingParty,
} from '#calls/b2bua/carrier_request'
import type { TrunkProfile } from '#calls/carriers/types'
import { euCarrierProfile } from '#tests/support/carriers'

const OFFER = sdp('v=0\r\nm=audio 4000 RTP/AVP 8\r\n')
const TARGET = { host: '192.0.2.5', port: 5060 }

function party(overrides: Partial<CallingParty> = {}): CallingParty {
  return { number: '+4930123456', withheld: false, emergency: false, location: null, ...overrides }
}

function profile(overrides: Partial<TrunkProfile> = {}) {
  return euCarrierProfile({
    transport: 'udp',
    auth: { method: 'ip', sourceAddresses: ['192.0.2.1'] },
    ...overrides,
  })
}

test.group('Carrier INVITE: number format', () => {
  test('E.164 with and without +, national with the trunk prefix, foreign numbers with 00', ({
    assert,
  }) => {
    assert.equal(
      carrierNumber(profile({ numberFormat: 'e164_plus' }), '4930123', false),
      '+4930123'
    )
    assert.equal(carrierNumber(profile({ numberFormat: 'e164' }), '4930123', false), '4930123')
    const national = profile({
      numberFormat: 'national',
      nationalCountryCode: '49',
      nationalTrunkPrefix: '0',
    })
    assert.equal(carrierNumber(national, '4930123', false), '030123')
    assert.equal(carrierNumber(national, '33140000', false), '0033140000')
  })

  test('emergency short codes go out as dialled whatever the format', ({ assert }) => {
    assert.equal(carrierNumber(profile({ numberFormat: 'e164_plus' }), '112', true), '112')
    const parts = carrierInvite(
      profile(),
      TARGET,
      '110',
      party({ emergency: true }),
      OFFER,
      '198.51.100.1'
    )
    assert.equal(parts.uri.user, '110')
  })
})

test.group('Carrier INVITE: caller ID and CLIR', () => {
  test('PAI identity: the number in P-Asserted-Identity, no Privacy', ({ assert }) => {
    const parts = carrierInvite(
      profile({ callerId: { identity: 'pai', clir: 'privacy_header' } }),
      TARGET,
      '4989',
      party(),
      OFFER,
      '198.51.100.1'
    )
    const headers = Object.fromEntries(parts.headers)
    assert.equal(headers['P-Asserted-Identity'], '<sip:+4930123456@198.51.100.1>')
    assert.notProperty(headers, 'Privacy')
    assert.equal(parts.from.uri.toString(), 'sip:+4930123456@198.51.100.1')
  })

  test('CLIR with a Privacy header: anonymous From, real number in PAI, Privacy: id', ({
    assert,
  }) => {
    const parts = carrierInvite(
      profile({ callerId: { identity: 'pai', clir: 'privacy_header' } }),
      TARGET,
      '4989',
      party({ withheld: true }),
      OFFER,
      'h'
    )
    const headers = Object.fromEntries(parts.headers)
    assert.equal(parts.from.uri.toString(), 'sip:anonymous@anonymous.invalid')
    assert.equal(headers['Privacy'], 'id')
    assert.equal(headers['P-Asserted-Identity'], '<sip:+4930123456@h>')
  })

  test('CLIR by anonymous From only: the number appears nowhere', ({ assert }) => {
    const parts = carrierInvite(
      profile({ callerId: { identity: 'from', clir: 'anonymous_from' } }),
      TARGET,
      '4989',
      party({ withheld: true }),
      OFFER,
      'h'
    )
    assert.equal(parts.from.uri.toString(), 'sip:anonymous@anonymous.invalid')
    assert.notInclude(JSON.stringify(parts.headers), '4930123456')
  })

  test('emergency calls ignore CLIR and carry the location as PIDF-LO', ({ assert }) => {
    const location = {
      street: 'Musterstraße 1',
      postalCode: '10115',
      city: 'Berlin',
      country: 'DE',
    }
    const parts = carrierInvite(
      profile({ callerId: { identity: 'pai', clir: 'anonymous_from' } }),
      TARGET,
      '112',
      party({ emergency: true, withheld: true, location }),
      OFFER,
      'h'
    )
    const headers = Object.fromEntries(parts.headers)
    assert.equal(parts.from.uri.toString(), 'sip:+4930123456@h')
    assert.match(headers['Geolocation'], /^<cid:[0-9a-f]+@h>$/)
    assert.match(parts.description.contentType, /^multipart\/mixed;boundary=/)
    const body = parts.description.body.toString()
    assert.include(body, '<ca:RD>Musterstraße 1</ca:RD>')
    assert.include(body, 'Content-ID: <' + headers['Geolocation'].slice(5, -1) + '>')
    // The SDP is still found in the multipart body.
    assert.equal(sdpOf(parts.description), 'v=0\r\nm=audio 4000 RTP/AVP 8\r\n')
  })

  test('carriers that hold the registered address get no location body', ({ assert }) => {
    const parts = carrierInvite(
      profile({ emergency: { location: 'carrier_registered', numbers: ['110', '112'] } }),
      TARGET,
      '112',
      party({
        emergency: true,
        location: { street: 'a', postalCode: 'b', city: 'c', country: 'DE' },
      }),
      OFFER,
      'h'
    )
    assert.equal(parts.description.contentType, 'application/sdp')
    assert.notInclude(JSON.stringify(parts.headers), 'Geolocation')
  })
})

test.group('Carrier INVITE: a forwarded call', () => {
  const forwarded = party({
    number: '+4930555100',
    forwarding: { diverter: '+4930555100', reason: 'busy', originalCaller: '+4989777000' },
  })

  test('Diversion by default (RFC 5806): the diverting number, the reason, the company number shown', ({
    assert,
  }) => {
    const parts = carrierInvite(
      profile({ callerId: { identity: 'from', clir: 'privacy_header' } }),
      TARGET,
      '4940123',
      forwarded,
      OFFER,
      '198.51.100.1'
    )
    const headers = new Map(parts.headers)
    assert.equal(
      headers.get('Diversion'),
      '<sip:+4930555100@198.51.100.1>;reason=user-busy;counter=1'
    )
    assert.isFalse(headers.has('History-Info'))
    assert.equal(parts.from.uri.toString(), 'sip:+4930555100@198.51.100.1')
  })

  test('History-Info (RFC 7044) with the cause, and the original caller where the profile allows it', ({
    assert,
  }) => {
    const parts = carrierInvite(
      profile({
        callerId: {
          identity: 'from',
          clir: 'privacy_header',
          forwarding: { header: 'history_info', presentOriginalCaller: true },
        },
      }),
      TARGET,
      '4940123',
      { ...forwarded, forwarding: { ...forwarded.forwarding!, reason: 'no_answer' } },
      OFFER,
      '198.51.100.1'
    )
    const headers = new Map(parts.headers)
    assert.isFalse(headers.has('Diversion'))
    assert.equal(
      headers.get('History-Info'),
      '<sip:+4930555100@198.51.100.1>;index=1, <sip:+4940123@192.0.2.5;cause=408>;index=1.1;mp=1'
    )
    assert.equal(parts.from.uri.toString(), 'sip:+4989777000@198.51.100.1')
  })

  test('a call that is not forwarded has neither header; none when the profile says so', ({
    assert,
  }) => {
    const plain = carrierInvite(profile(), TARGET, '4940123', party(), OFFER, '198.51.100.1')
    assert.isFalse(plain.headers.some(([name]) => name === 'Diversion' || name === 'History-Info'))
    const none = carrierInvite(
      profile({
        callerId: {
          identity: 'pai',
          clir: 'privacy_header',
          forwarding: { header: 'none', presentOriginalCaller: false },
        },
      }),
      TARGET,
      '4940123',
      forwarded,
      OFFER,
      '198.51.100.1'
    )
    assert.isFalse(none.headers.some(([name]) => name === 'Diversion' || name === 'History-Info'))
    assert.include(new Map(none.headers).get('P-Asserted-Identity'), '+4930555100')
  })
})
