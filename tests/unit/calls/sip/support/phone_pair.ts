import FakeClock from '#sip/clock/fake_clock'
import SipUri from '#sip/message/sip_uri'
import SipUserAgentCore, { type UserAgentCoreOptions } from '#sip/ua/sip_user_agent_core'
import type { SessionDescription } from '#sip/dialog/session_description'
import LoopbackNetwork, {
  type LoopbackEndpoint,
} from '#tests/unit/calls/sip/support/loopback_network'

export const ALICE_HOST = '192.0.2.1'
export const BOB_HOST = '192.0.2.2'

export function sdp(owner: string, version = 1): SessionDescription {
  const text = [
    'v=0',
    `o=${owner} 1 ${version} IN IP4 192.0.2.10`,
    's=-',
    'c=IN IP4 192.0.2.10',
    't=0 0',
    'm=audio 49170 RTP/AVP 0',
    '',
  ].join('\r\n')
  return { body: Buffer.from(text), contentType: 'application/sdp' }
}

export type CoreOverrides = Partial<Omit<UserAgentCoreOptions, 'transport' | 'clock'>>

/** A user agent core on a loopback endpoint with predictable tokens and randomness. */
export function createCore(
  network: LoopbackNetwork,
  host: string,
  name: string,
  overrides: CoreOverrides = {}
): { core: SipUserAgentCore; endpoint: LoopbackEndpoint } {
  const endpoint = network.endpoint(host)
  let counter = 0
  const core = new SipUserAgentCore({
    transport: endpoint,
    clock: network.clock,
    tokens: () => `${name}${++counter}`,
    random: () => 0.5,
    contactUser: name,
    ...overrides,
  })
  endpoint.attach(core)
  return { core, endpoint }
}

/** Alice and Bob, each a core, on one loopback network with a 10 ms one-way delay. */
export function createPhonePair(alice: CoreOverrides = {}, bob: CoreOverrides = {}) {
  const clock = new FakeClock()
  const network = new LoopbackNetwork(clock, 10)
  const a = createCore(network, ALICE_HOST, 'alice', alice)
  const b = createCore(network, BOB_HOST, 'bob', bob)
  return {
    clock,
    network,
    alice: a.core,
    bob: b.core,
    aliceAddress: a.endpoint.address,
    bobAddress: b.endpoint.address,
    bobUri: SipUri.parse(`sip:bob@${BOB_HOST}`),
    aliceUri: SipUri.parse(`sip:alice@${ALICE_HOST}`),
  }
}

/** Lets virtual time pass and then the promise callbacks it released run. */
export async function run(clock: FakeClock, ms: number): Promise<void> {
  clock.advance(ms)
  await new Promise((resolve) => setImmediate(resolve))
}
