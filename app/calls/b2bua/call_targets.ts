import {
  NameAddress,
  SipUri,
  clientTransportOf,
  destinationOf,
  routeOf,
  type Binding,
  type SipStack,
} from '#sip'
import type { MediaEngine } from '#media'
import type User from '#accounts/models/user'
import type CarrierManager from '#calls/carriers/carrier_manager'
import type CallRecord from '#calls/models/call_record'
import type CdrService from '#calls/b2bua/cdr_service'
import type { CallTarget } from '#calls/b2bua/call_attempt'
import { carrierInvite, sdp, type CallingParty } from '#calls/b2bua/carrier_request'
import { userSubject } from '#calls/signalling/sip_subject'
import { legEncryption, phoneTargetMedia, type LegMedia } from '#calls/b2bua/media_security'
import { noteDevice, type DeviceNotes } from '#calls/b2bua/device_notes'

export interface CallTargetDependencies {
  stack: SipStack
  media: MediaEngine
  carriers: CarrierManager
  cdr: Pick<CdrService, 'carrier'>
  logger: { warn(details: Record<string, unknown>, message: string): void }
  /** Carriers the OPTIONS health check reports down; they are tried after the others. */
  isCarrierDown?: (name: string) => boolean
  /** A desk phone that answered is noted (the devices page: its last call's encryption). */
  devices?: DeviceNotes
}

/** Who is calling, as a colleague's phone shows it. */
export interface ShownCaller {
  number: string | null
  name?: string
}

/**
 * Where a call is sent, and how each target is reached: the carriers of a route (every server of
 * each host, RFC 3263) with the INVITE their profile asks for, and every registered phone and
 * browser of the called users. The B2BUA decides whether a call goes out; CallSession tries them.
 */
export default class CallTargets {
  readonly #deps: CallTargetDependencies

  constructor(deps: CallTargetDependencies) {
    this.#deps = deps
  }

  /** The targets of a route's carriers, in failover order. */
  async carriers(
    names: string[],
    destination: string,
    party: CallingParty,
    record: CallRecord
  ): Promise<CallTarget[]> {
    const targets: CallTarget[] = []
    for (const name of this.#healthyFirst(names)) {
      targets.push(...(await this.#carrier(name, destination, party, record)))
    }
    return targets
  }

  /**
   * Every registered device (web phones and SIP phones) of these users, to ring at once. A phone
   * registered over TLS is offered SRTP; unless its company wants "encrypted only", a 488 to
   * that offer (a TLS phone set to plain RTP) rings it again with plain RTP (plainFallback).
   */
  async phones(
    users: Array<Pick<User, 'id'>>,
    caller: ShownCaller,
    options: { encryptedOnly?: boolean } = {}
  ): Promise<CallTarget[]> {
    const targets: CallTarget[] = []
    for (const user of users) {
      for (const binding of await this.#deps.stack.bindingsOfSubject(userSubject(user.id))) {
        // Behind a front the client's own transport decides (a browser's WebSocket there).
        const media = phoneTargetMedia(clientTransportOf(binding))
        const target = this.#phone(binding, caller, user.id, media)
        if (media === 'srtp' && !options.encryptedOnly)
          target.plainFallback = this.#phone(binding, caller, user.id, 'rtp')
        targets.push(target)
      }
    }
    return targets
  }

  /**
   * One registered phone or browser, reached over the flow it registered on, with the media leg
   * `media` (SRTP for a phone registered over TLS: SDES keys go only where signalling is encrypted).
   */
  #phone(binding: Binding, caller: ShownCaller, userId: number, media: LegMedia): CallTarget {
    const destination = destinationOf(binding)
    const route = routeOf(binding)
    const callerNumber = caller.number
    return {
      label: binding.contactUri,
      carrier: false,
      userId,
      connectionId: destination.connectionId,
      frontFlow: binding.flow,
      encryption: legEncryption(clientTransportOf(binding), media),
      onAnswered: () =>
        noteDevice(this.#deps.devices, this.#deps.logger, (devices) =>
          devices.called(binding.subject, media !== 'rtp')
        ),
      createLeg: (near) =>
        media === 'webrtc'
          ? this.#deps.media.createWebRtcLeg({ near })
          : this.#deps.media.createRtpLeg({ latching: true, srtp: media === 'srtp', near }),
      inviteOptions: (offer) => {
        const ourHost = this.#deps.stack.localHost(destination.protocol) ?? 'fluffycall.invalid'
        const from = callerNumber
          ? new NameAddress(new SipUri({ user: callerNumber, host: ourHost }), caller.name)
          : new NameAddress(
              new SipUri({ user: 'anonymous', host: 'anonymous.invalid' }),
              'Anonymous'
            )
        return {
          uri: SipUri.parse(binding.contactUri),
          to: NameAddress.parse(`<${binding.aor}>`),
          from,
          description: sdp(offer),
          destination,
          // RFC 3327: through the proxies on the Path, as a pre-loaded Route set.
          ...(route.length > 0
            ? { headers: route.map((hop): [string, string] => ['Route', hop]) }
            : {}),
        }
      },
    }
  }

  /** Carriers the health check reports down go last, so a healthy one is tried first. */
  #healthyFirst(names: string[]) {
    const down = this.#deps.isCarrierDown
    if (!down) return names
    return [...names.filter((name) => !down(name)), ...names.filter((name) => down(name))]
  }

  async #carrier(name: string, destination: string, party: CallingParty, record: CallRecord) {
    const plugin = await this.#deps.carriers.use(name)
    const profile = plugin.profile
    const credentials =
      profile.auth.method === 'registration'
        ? { username: profile.auth.username, password: profile.auth.password }
        : undefined
    const targets: CallTarget[] = []
    for (const host of profile.hosts) {
      // RFC 3263: a host name may stand for several servers (SRV, A/AAAA); each is a target.
      const destinations = await this.#deps.stack
        .resolveTargets({ host, port: profile.port, transport: profile.transport })
        .catch(() => [])
      if (!destinations.length)
        this.#deps.logger.warn({ carrier: name }, 'carrier host did not resolve')
      for (const next of destinations) {
        targets.push({
          label: `${name}@${next.host}:${next.port}`,
          carrierName: name,
          carrier: true,
          encryption: legEncryption(profile.transport, profile.srtp === 'sdes' ? 'srtp' : 'rtp'),
          codecs: profile.codecs.filter(
            (codec): codec is 'PCMU' | 'PCMA' => codec === 'PCMU' || codec === 'PCMA'
          ),
          createLeg: async (near) => {
            await this.#deps.cdr.carrier(record, name)
            return this.#deps.media.createRtpLeg({
              latching: false,
              srtp: profile.srtp === 'sdes',
              near,
            })
          },
          inviteOptions: (offer) => {
            const ourHost = this.#deps.stack.localHost(profile.transport) ?? '127.0.0.1'
            const parts = carrierInvite(
              profile,
              { host, port: profile.port },
              destination,
              party,
              sdp(offer),
              ourHost
            )
            return {
              uri: parts.uri,
              to: parts.to,
              from: parts.from,
              headers: parts.headers,
              description: parts.description,
              destination: next,
              credentials,
            }
          },
        })
      }
    }
    return targets
  }
}
