import { test } from '@japa/runner'
import { stampReceived } from '#sip/transport/via_stamping'
import { responseDestination } from '#sip/transport/response_routing'
import type { PacketOrigin, SipTransport } from '#sip/transport/sip_transport'
import { parseRequest } from '#tests/unit/calls/sip/sip_fixtures'
import { optionsRequest } from '#tests/unit/calls/sip/transport/transport_fixtures'

const transport = {} as SipTransport

function request(via: string) {
  return parseRequest(
    optionsRequest().replace(
      /^Via: .*$/m,
      `Via: ${via}\r\nVia: SIP/2.0/UDP proxy.example:5060;branch=z9hG4bKp`
    )
  )
}

function udpOrigin(address: string, port: number): PacketOrigin {
  return { transport, protocol: 'udp', address, port }
}

test.group('Via stamping (RFC 3261 18.2.1, RFC 3581)', () => {
  test('adds received when the sent-by host is not the source address', ({ assert }) => {
    const message = request('SIP/2.0/UDP pc33.example.com:5060;branch=z9hG4bK1')
    const top = stampReceived(message, '198.51.100.7', 5060)
    assert.equal(top.received, '198.51.100.7')
    assert.equal(message.topVia.received, '198.51.100.7')
    assert.match(
      message.toString(),
      /Via: SIP\/2.0\/UDP pc33.example.com:5060;branch=z9hG4bK1;received=198.51.100.7\r\n/
    )
    assert.lengthOf(message.via, 2, 'the other Via values are kept')
    assert.equal(message.via[1].host, 'proxy.example')
  })

  test('leaves the Via alone when the host is the source and rport was not asked for', ({
    assert,
  }) => {
    const message = request('SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK1')
    const before = message.headers.getAll('via')
    stampReceived(message, '198.51.100.7', 5060)
    assert.deepEqual(message.headers.getAll('via'), before)
    assert.isUndefined(message.topVia.received)
  })

  test('fills rport with the source port and always adds received with it', ({ assert }) => {
    const message = request('SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK1;rport')
    const top = stampReceived(message, '198.51.100.7', 40123)
    assert.equal(top.rport, 40123)
    assert.equal(top.received, '198.51.100.7')
  })

  test('UDP responses go to received:rport when rport was asked for', ({ assert }) => {
    const message = request('SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK1;rport')
    const top = stampReceived(message, '203.0.113.9', 61000)
    assert.deepEqual(responseDestination(top, udpOrigin('203.0.113.9', 61000)), {
      protocol: 'udp',
      host: '203.0.113.9',
      port: 61000,
    })
  })

  test('UDP responses go to received at the sent-by port without rport', ({ assert }) => {
    const message = request('SIP/2.0/UDP 10.0.0.5:5080;branch=z9hG4bK1')
    const top = stampReceived(message, '203.0.113.9', 61000)
    assert.deepEqual(responseDestination(top, udpOrigin('203.0.113.9', 61000)), {
      protocol: 'udp',
      host: '203.0.113.9',
      port: 5080,
    })
  })

  test('stream responses go back over the request’s connection', ({ assert }) => {
    const message = request('SIP/2.0/WS abc123.invalid;branch=z9hG4bK1')
    const origin: PacketOrigin = {
      transport,
      protocol: 'ws',
      address: '203.0.113.9',
      port: 51515,
      connectionId: 'ws-xyz',
    }
    const top = stampReceived(message, origin.address, origin.port)
    const destination = responseDestination(top, origin)
    assert.equal(destination.connectionId, 'ws-xyz')
    assert.equal(destination.protocol, 'ws')
    assert.equal(destination.host, '203.0.113.9')
  })
})
